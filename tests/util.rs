//! Shared test support: run the real binary, start the sandbox, write
//! agents files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use provision::sandbox::{self, Faults, Sandbox, SandboxOptions};

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// The binary under test, with none of our environment variables leaking in
/// from the machine running the tests.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_provision"));
    command
        .args(args)
        .stdin(Stdio::null())
        .env_remove("SOFTPHONE_TOKEN")
        .env_remove("SOFTPHONE_DASHBOARD")
        .env_remove("SOFTPHONE_EMAIL")
        .env_remove("SOFTPHONE_PASSWORD")
        .env_remove("RUST_LOG");
    command
}

/// Runs the binary to the end, off the async runtime.
pub async fn run(mut command: Command) -> Run {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the runner thread")
        .expect("the binary starts");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// `provision ARGS` against `sandbox`, with its token in the environment.
pub async fn provision_into(sandbox: &Sandbox, args: &[&str]) -> Run {
    let mut command = command(args);
    command
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_TOKEN", sandbox.admin_token().expose());
    run(command).await
}

/// A sandbox with the given faults.
pub async fn sandbox_with(faults: Faults) -> Sandbox {
    sandbox::start(SandboxOptions {
        faults,
        ..SandboxOptions::default()
    })
    .await
    .expect("the sandbox starts")
}

/// A fixture file by its path under `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The header of the vendor's format.
pub const HEADER: &str = "usesSP;name;surname;email;password;role;groupsIn;groupsMan;siplogin;sippassword;sipdisplayname;sipauthname;ext";

/// The password of generated row `n`: tests check it never leaks.
pub fn password_of(n: usize) -> String {
    format!("Pw-{n:05}-secret")
}

/// The SIP password of generated row `n`.
pub fn sip_password_of(n: usize) -> String {
    format!("Sip-{n:05}-hidden")
}

/// Writes `rows` valid agents to `dir/agents.csv`.
pub fn write_agents(dir: &Path, rows: usize) -> PathBuf {
    let mut text = format!("{HEADER}\n");
    for n in 1..=rows {
        text.push_str(&format!(
            "true;Агент{n};Тестов;agent{n}@example.com;{};EMPLOYEE;1,2;;sip{n};{};;;\n",
            password_of(n),
            sip_password_of(n)
        ));
    }
    let path = dir.join("agents.csv");
    std::fs::write(&path, text).expect("write the agents file");
    path
}

/// Asserts that every generated agent exists exactly once on the sandbox.
pub fn assert_each_once(sandbox: &Sandbox, rows: usize) {
    let users = sandbox.users();
    for n in 1..=rows {
        let email = format!("agent{n}@example.com");
        let count = users.iter().filter(|u| u.email == email).count();
        assert_eq!(count, 1, "{email} exists {count} times");
    }
}

/// Asserts that no secret of the generated rows, nor the token, appears in
/// `text`.
pub fn assert_no_secrets(text: &str, sandbox: &Sandbox, rows: usize) {
    assert!(
        !text.contains(sandbox.admin_token().expose()),
        "the token leaked"
    );
    for n in 1..=rows {
        assert!(
            !text.contains(&password_of(n)),
            "password of row {n} leaked"
        );
        assert!(
            !text.contains(&sip_password_of(n)),
            "SIP password of row {n} leaked"
        );
    }
}

/// Runs the binary with `input` on its stdin.
pub async fn run_with_stdin(mut command: Command, input: &str) -> Run {
    let input = input.to_string();
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())?;
        child.wait_with_output()
    })
    .await
    .expect("the runner thread")
    .expect("the binary starts");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// `provision ARGS` against `sandbox` with `token`, in folder `dir`.
pub async fn provision_in(sandbox: &Sandbox, dir: &Path, token: &str, args: &[&str]) -> Run {
    let mut command = command(args);
    command
        .current_dir(dir)
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_TOKEN", token);
    run(command).await
}

/// Creates users straight through the API (not the binary under test):
/// `(name, surname, email)` each; their IDs in order.
pub async fn seed_users(sandbox: &Sandbox, people: &[(&str, &str, &str)]) -> Vec<u64> {
    use provision::dashboard::{ClientOptions, Dashboard};
    use provision::payload::SaveUser;
    use provision::secret::Secret;

    let dashboard = Dashboard::new(
        sandbox.url(),
        sandbox.admin_token(),
        &ClientOptions::default(),
    )
    .expect("a client");
    let mut ids = Vec::new();
    for (name, surname, email) in people {
        let user = SaveUser {
            uses_softphone: true,
            name: name.to_string(),
            surname: surname.to_string(),
            email: email.to_string(),
            password: Secret::new("Seeded-1"),
            role: "EMPLOYEE",
            groups: vec![1],
            manage_groups: Vec::new(),
            config: Secret::new(""),
        };
        ids.push(
            dashboard
                .save_user(&user)
                .await
                .expect("the seed user is saved"),
        );
    }
    ids
}

/// The requests to `path` that the sandbox recorded.
pub fn requests_to(sandbox: &Sandbox, path: &str) -> Vec<provision::sandbox::RecordedRequest> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

/// Query pairs as owned strings, for comparing with what was recorded.
pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The names of the files in `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the folder")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Runs `command` to the end under `/usr/bin/time -f %M`, which reports
/// the child's peak resident memory; the run and that peak in KiB, or
/// `None` where `/usr/bin/time` is absent (the caller then checks
/// everything but memory).
pub async fn run_measured(command: Command) -> (Run, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return (run(command).await, None);
    }
    let report = tempfile::NamedTempFile::new().expect("a temporary file");
    let mut measured = Command::new(time);
    measured
        .args(["-f", "%M", "-o"])
        .arg(report.path())
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(Stdio::null());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => measured.env(key, value),
            None => measured.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        measured.current_dir(dir);
    }
    let run = run(measured).await;
    let text = std::fs::read_to_string(report.path()).expect("time's report");
    // time prefixes "Command exited with non-zero status N" on its own line.
    let peak = text.lines().last().and_then(|l| l.trim().parse().ok());
    (run, peak)
}
