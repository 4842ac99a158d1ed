# Build the Windows installer from the onedir bundle: dist\<slug>-<version>-setup.exe
#
#   python -m pip install ".[window,build]"; bash build/bundle; pwsh build/windows/make_installer.ps1
#
# Needs Inno Setup 6 (ISCC.exe; `choco install innosetup`). Sign the setup
# program and the executables with your certificate (signtool) before shipping:
# unsigned installers get SmartScreen warnings.
$ErrorActionPreference = "Stop"
$root = (Resolve-Path "$PSScriptRoot\..\..").Path
$python = if ($env:PYTHON) { $env:PYTHON } else { "python" }
$work = Join-Path $root "build\work"
New-Item -ItemType Directory -Force -Path $work | Out-Null

# The identity (name, version, AppId ...) from desktop_app/identity.py.
& $python "$root\build\identity.py" --format iss | Set-Content -Encoding UTF8 "$work\identity.iss"
if ($LASTEXITCODE -ne 0) { throw "build/identity.py failed" }
$slug = (& $python "$root\build\identity.py" | Select-String '^APP_SLUG=(.*)$').Matches[0].Groups[1].Value
if (-not (Test-Path "$root\dist\$slug\$slug.exe")) { throw "no bundle at dist\$slug; run build/bundle first" }

# The installer's own icon, from the app's PNG (Pillow comes with Gradio).
& $python -c "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], sizes=[(16,16),(32,32),(48,48),(64,64),(128,128),(256,256)])" `
    "$root\desktop_app\static\icon.png" "$work\$slug.ico"
if ($LASTEXITCODE -ne 0) { throw "could not make the .ico" }

$iscc = Get-Command iscc -ErrorAction SilentlyContinue
$isccPath = if ($iscc) { $iscc.Source } else { "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
if (-not (Test-Path $isccPath)) { throw "Inno Setup 6 is not installed (choco install innosetup)" }
& $isccPath "$root\build\windows\installer.iss"
if ($LASTEXITCODE -ne 0) { throw "ISCC failed" }
Get-ChildItem "$root\dist\*-setup.exe" | ForEach-Object { "built $($_.FullName) ($([math]::Round($_.Length / 1MB)) MB)" }
