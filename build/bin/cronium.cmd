@echo off
rem The `cronium` command line of an installed Cronium Desktop (add this folder to PATH).
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\cronium-desktop.exe" "%~dp0..\app.asar\out\app\cli.js" %*
