@echo off
rem check_agents.bat: checks a CSV file of agents and shows, row by row,
rem what add_agents.bat would send. It sends nothing and needs no token.
rem Double-click it, or drop a CSV file onto it. See README-windows.txt.
setlocal

rem filepath: the agents file. .\ is the folder of this file.
rem A file dropped onto this file is used instead.
set "filepath=.\agents.csv"

rem The folder of this file, taken before the current folder changes.
set "here=%~dp0"
rem Explorer starts a batch file in its own folder, but a shortcut or another
rem window may not: .\ must still mean the folder of this file.
cd /d "%here%"
if not "%~1"=="" set "filepath=%~1"
rem The full path, so that messages say exactly which file was read and
rem where the results file is.
for %%F in ("%filepath%") do set "filepath=%%~fF"

"%here%provision.exe" --dry-run "%filepath%"
rem Saved at once: echo and pause may change ERRORLEVEL.
set "code=%ERRORLEVEL%"
echo.
pause
exit /b %code%
