; Inno Setup script: the onedir bundle (dist\<slug>\) as one setup program,
; dist\<slug>-<version>-setup.exe. Run build\windows\make_installer.ps1, which
; writes the app's identity (desktop_app/identity.py) to build\work\identity.iss
; and calls ISCC on this file.
;
; Per-user install by default (no administrator prompt; the person may choose
; all users). Uninstalling removes the program, never the person's data in
; %LOCALAPPDATA%\<slug> (accounts, sessions, notes).

#include "..\work\identity.iss"

[Setup]
; AppId ties upgrades to earlier installs: never change it once shipped.
AppId={{{#WindowsAppId}}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#Maintainer}
AppComments={#AppDescription}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppSlug}-{#AppVersion}-setup
SetupIconFile=..\work\{#AppSlug}.ico
UninstallDisplayIcon={app}\{#AppSlug}.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; The app must be closed to be replaced or removed.
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole bundle: the windowed app, the console CLI (<slug>-cli.exe) and _internal\.
Source: "..\..\dist\{#AppSlug}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppSlug}.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppSlug}.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppSlug}.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
