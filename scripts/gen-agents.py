#!/usr/bin/env python3
"""Writes a valid agents file of N rows, for benchmarks (stdlib only).

    python3 scripts/gen-agents.py --rows 1000000 /tmp/agents-1m.csv

The file is ';'-separated UTF-8 with the vendor's 13 columns: unique emails,
Cyrillic and Latin names, all four roles, SIP fields. It is deterministic
(seeded), so two runs write the same bytes. It does not write invalid rows.
"""

import argparse
import random

HEADER = ("usesSP;name;surname;email;password;role;groupsIn;groupsMan;"
          "siplogin;sippassword;sipdisplayname;sipauthname;ext\n")
NAMES = ["Иван", "Ольга", "Сергей", "Анна", "Дмитрий", "Мария", "John", "Anna",
         "Peter", "Laura", "Carlos", "Yuki"]
SURNAMES = ["Петров", "Сидорова", "Кузнецов", "Смирнова", "Smith", "Brown",
            "García", "Müller", "Tanaka", "O'Neil"]
ROLES = ["EMPLOYEE", "EMPLOYEE", "EMPLOYEE", "MANAGER", "RESTRICTED_ADMIN", "ADMIN"]


def row(number, rng, quoted=False):
    name, surname = rng.choice(NAMES), rng.choice(SURNAMES)
    role = rng.choice(ROLES)
    manages = f"{rng.randint(1, 20)}" if role in ("MANAGER", "RESTRICTED_ADMIN") else ""
    login = 100000 + number
    display = f'"{name} {surname}"' if quoted else f"{name} {surname}"
    return (f"{rng.choice(['TRUE', 'FALSE'])};{name};{surname};agent{number}@example.com;"
            f"Pw{rng.getrandbits(40):x};{role};{rng.randint(1, 20)},{rng.randint(21, 40)};"
            f"{manages};{login};Sp{rng.getrandbits(32):x};{display};{login};{number % 10000}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="how many data rows")
    parser.add_argument("--quoted", action="store_true",
                        help="quote every display name, as a file with no plain line")
    parser.add_argument("path", help="where to write the file")
    args = parser.parse_args()
    rng = random.Random(1)
    with open(args.path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for number in range(1, args.rows + 1):
            out.write(row(number, rng, args.quoted))


if __name__ == "__main__":
    main()
