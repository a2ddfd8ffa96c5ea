# Dot-source this file in PowerShell to compile with hot-patching in the current session:
#   . shims\activate.ps1 [-Compiler C:\LLVM\bin\clang-cl.exe] [-ShimDir DIR] [-HotpatchCl PATH]
# It fills ShimDir (default: <checkout>\target\shims) with copies of hotpatch-cl.exe named
# clang-cl.exe, clang.exe, clang++.exe and lld-link.exe (Windows has no dependable symlinks), puts ShimDir
# first on PATH, sets HOTPATCH_COMPILER when -Compiler is given, and defines `hpcl`
# (hotpatch-cl in front of that compiler). `hotpatch_deactivate` undoes it.
param(
    [string]$Compiler = "",
    [string]$ShimDir = "",
    [string]$HotpatchCl = ""
)
$repo = Split-Path -Parent $PSScriptRoot
if ($ShimDir -eq "") { $ShimDir = Join-Path $repo "target\shims" }
if ($HotpatchCl -eq "") {
    $found = Get-Command hotpatch-cl.exe -ErrorAction SilentlyContinue
    if ($found) { $HotpatchCl = $found.Source }
    elseif (Test-Path (Join-Path $repo "target\release\hotpatch-cl.exe")) { $HotpatchCl = Join-Path $repo "target\release\hotpatch-cl.exe" }
    else { throw "activate.ps1: hotpatch-cl.exe not found: build it (cargo build --release) or pass -HotpatchCl" }
}
New-Item -ItemType Directory -Force -Path $ShimDir | Out-Null
foreach ($name in "clang-cl.exe", "clang.exe", "clang++.exe", "lld-link.exe") {
    Copy-Item -Force $HotpatchCl (Join-Path $ShimDir $name)
}
if (-not (Test-Path Variable:global:HotpatchOldPath)) {
    $global:HotpatchOldPath = $env:PATH
    $global:HotpatchOldCompiler = $env:HOTPATCH_COMPILER
}
$env:PATH = "$ShimDir;$(Split-Path -Parent $HotpatchCl);$global:HotpatchOldPath"
if ($Compiler -ne "") { $env:HOTPATCH_COMPILER = $Compiler }
$global:HotpatchClExe = $HotpatchCl
$global:HotpatchRealCompiler = if ($env:HOTPATCH_COMPILER) { $env:HOTPATCH_COMPILER } else { "clang-cl" }
function global:hpcl { & $global:HotpatchClExe $global:HotpatchRealCompiler @args }
function global:hotpatch_deactivate {
    $env:PATH = $global:HotpatchOldPath
    $env:HOTPATCH_COMPILER = $global:HotpatchOldCompiler
    Remove-Item Function:\hpcl, Function:\hotpatch_deactivate -ErrorAction SilentlyContinue
    Remove-Variable -Scope Global HotpatchOldPath, HotpatchOldCompiler, HotpatchClExe, HotpatchRealCompiler -ErrorAction SilentlyContinue
}
Write-Host "hotpatch-cl: $ShimDir first on PATH; real compiler: $global:HotpatchRealCompiler"
