; UNTESTED: written on paper, never compiled or run (no Windows machine here).
; Inno Setup 6 script: installs the one-folder bundle that `python packaging\build.py` makes
; on Windows (dist\retouch-studio\) for the current user, with a Start-menu entry and
; "Open with Retouch Studio" for photos. Compile with: iscc packaging\windows\retouch-studio.iss
; See packaging/README.md, "Windows (untested)", for what still needs checking.

#define AppVersion "0.1.0"  ; keep equal to app/__init__.py __version__

[Setup]
AppId={{7C1F4A52-3E0B-4F6C-9A55-2B8D6E1F0A31}
AppName=Retouch Studio
AppVersion={#AppVersion}
AppPublisher=Retouch Studio developers
DefaultDirName={localappdata}\Programs\Retouch Studio
DefaultGroupName=Retouch Studio
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=retouch-studio-{#AppVersion}-setup
SetupIconFile=..\..\build\retouch-studio.ico
UninstallDisplayIcon={app}\retouch-studio.exe
Compression=lzma2
SolidCompression=yes
ChangesAssociations=yes

[Files]
Source: "..\..\dist\retouch-studio\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Retouch Studio"; Filename: "{app}\retouch-studio.exe"
Name: "{userdesktop}\Retouch Studio"; Filename: "{app}\retouch-studio.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Registry]
; A ProgID for photos, offered in Explorer's "Open with" without taking over any default.
Root: HKCU; Subkey: "Software\Classes\RetouchStudio.Photo"; ValueType: string; ValueData: "Photo (Retouch Studio)"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\RetouchStudio.Photo\DefaultIcon"; ValueType: string; ValueData: "{app}\retouch-studio.exe,0"
Root: HKCU; Subkey: "Software\Classes\RetouchStudio.Photo\shell\open\command"; ValueType: string; ValueData: """{app}\retouch-studio.exe"" ""%1"""
Root: HKCU; Subkey: "Software\Classes\.png\OpenWithProgids"; ValueType: string; ValueName: "RetouchStudio.Photo"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.jpg\OpenWithProgids"; ValueType: string; ValueName: "RetouchStudio.Photo"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.jpeg\OpenWithProgids"; ValueType: string; ValueName: "RetouchStudio.Photo"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.webp\OpenWithProgids"; ValueType: string; ValueName: "RetouchStudio.Photo"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.tif\OpenWithProgids"; ValueType: string; ValueName: "RetouchStudio.Photo"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.tiff\OpenWithProgids"; ValueType: string; ValueName: "RetouchStudio.Photo"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.heic\OpenWithProgids"; ValueType: string; ValueName: "RetouchStudio.Photo"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.avif\OpenWithProgids"; ValueType: string; ValueName: "RetouchStudio.Photo"; ValueData: ""; Flags: uninsdeletevalue

[Run]
Filename: "{app}\retouch-studio.exe"; Description: "Start Retouch Studio"; Flags: nowait postinstall skipifsilent
