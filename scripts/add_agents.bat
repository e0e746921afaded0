@echo off
rem add_agents.bat: adds the agents listed in a CSV file to your
rem Softphone.Pro Team Dashboard, with provision.exe from this folder.
rem Fill in the settings below once (right-click this file, Edit, save),
rem then double-click it, or drop a CSV file onto it. See README-windows.txt.
setlocal

rem token: the Team Administrator token of your dashboard. provision.exe
rem gets it through the environment, never on its command line, where
rem other programs could read it. Keep this file private once it is set.
set "token="

rem dashboard: the address of your Team Dashboard, https://company.softphone.pro,
rem or only its unique name (company).
set "dashboard="

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

if "%token%"=="" goto unset
if "%dashboard%"=="" goto unset

set "SOFTPHONE_TOKEN=%token%"
"%here%provision.exe" --dashboard "%dashboard%" "%filepath%"
rem Saved at once: echo and pause may change ERRORLEVEL.
set "code=%ERRORLEVEL%"
echo.
pause
exit /b %code%

:unset
echo The token and dashboard settings at the top of add_agents.bat are empty.
echo Right-click add_agents.bat, choose Edit, fill them in and save.
echo README-windows.txt says where to find them.
echo.
pause
exit /b 2
