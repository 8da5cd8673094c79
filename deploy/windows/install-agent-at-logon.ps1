# Run the Hedge System agent at log-on of the current Windows user (where MetaTrader runs), with
# a restart when it stops. Run once in PowerShell from the project folder:
#   powershell -ExecutionPolicy Bypass -File deploy\windows\install-agent-at-logon.ps1 -Server https://hedge.example.com
# It asks for the two tokens and keeps each in a file only this user can read.
param(
    [Parameter(Mandatory = $true)][string]$Server,
    [int]$EaPort = 8080,
    [string]$Project = (Resolve-Path "$PSScriptRoot\..\..").Path
)
$ErrorActionPreference = "Stop"
$data = Join-Path $env:LOCALAPPDATA "hedge"
New-Item -ItemType Directory -Force -Path $data | Out-Null

function Save-Secret([string]$Prompt, [string]$Path) {
    $secure = Read-Host -AsSecureString $Prompt
    $plain = [Runtime.InteropServices.Marshal]::PtrToStringAuto([Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure))
    Set-Content -Path $Path -Value $plain -NoNewline -Encoding ascii
    # only this user (and SYSTEM) may read it
    icacls $Path /inheritance:r /grant:r "$($env:USERNAME):(R,W)" "SYSTEM:(F)" | Out-Null
}
Save-Secret "The user's API token (hs_...)" (Join-Path $data "token")
Save-Secret "The EA token (a secret you make up; the same in every EA's inputs)" (Join-Path $data "ea-token")

$hedge = Join-Path $Project ".venv\Scripts\hedge.exe"
$arguments = "agent --server $Server --token-file `"$data\token`" --ea-token-file `"$data\ea-token`" " +
             "--ea-port $EaPort --state-dir `"$data\agent-state`""
$action = New-ScheduledTaskAction -Execute $hedge -Argument $arguments -WorkingDirectory $data
$trigger = New-ScheduledTaskTrigger -AtLogOn -User $env:USERNAME
$settings = New-ScheduledTaskSettingsSet -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
Register-ScheduledTask -TaskName "Hedge System agent" -Action $action -Trigger $trigger -Settings $settings -Force | Out-Null
Start-ScheduledTask -TaskName "Hedge System agent"
Write-Host "The agent runs now and at every log-on of $env:USERNAME. Its page: http://127.0.0.1:$EaPort/healthz"
