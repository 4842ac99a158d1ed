; Inno Setup script: the onedir bundle (DIST\<slug>\) as one setup program,
; DIST\<slug>-<version>-setup.exe. `desktop-app build --installer` on Windows
; (freeze/installers.py) copies it beside an identity.iss it writes (AppName,
; AppSlug, AppVersion, WindowsAppId, Maintainer, AppDescription, and the
; DistDir and IconFile paths) and runs ISCC on the copy.
;
; Per-user install by default (no administrator prompt; the person may choose
; all users). Uninstalling removes the program, never the person's data in
; %LOCALAPPDATA%\<slug> (accounts, sessions, notes).

#include "identity.iss"

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
OutputDir={#DistDir}
OutputBaseFilename={#AppSlug}-{#AppVersion}-setup
SetupIconFile={#IconFile}
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
Source: "{#DistDir}\{#AppSlug}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppSlug}.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppSlug}.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppSlug}.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
