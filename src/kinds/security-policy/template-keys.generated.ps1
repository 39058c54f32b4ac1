# Generated from src/kinds/security-policy/template-keys.json by src/kinds/generate.ts; do not edit.
# Regenerate: npx tsc -p . && node dist/src/kinds/generate.js
$script:WsTemplateKeys = @(
    @{ section = 'System Access'; key = 'MinimumPasswordAge'; type = 'integer'; min = 0; max = 998 },
    @{ section = 'System Access'; key = 'MaximumPasswordAge'; type = 'integer'; min = -1; max = 999 },
    @{ section = 'System Access'; key = 'MinimumPasswordLength'; type = 'integer'; min = 0; max = 14 },
    @{ section = 'System Access'; key = 'PasswordComplexity'; type = 'boolean'; min = $null; max = $null },
    @{ section = 'System Access'; key = 'PasswordHistorySize'; type = 'integer'; min = 0; max = 24 },
    @{ section = 'System Access'; key = 'ClearTextPassword'; type = 'boolean'; min = $null; max = $null },
    @{ section = 'System Access'; key = 'LockoutBadCount'; type = 'integer'; min = 0; max = 999 },
    @{ section = 'System Access'; key = 'ResetLockoutCount'; type = 'integer'; min = 1; max = 99999 },
    @{ section = 'System Access'; key = 'LockoutDuration'; type = 'integer'; min = -1; max = 99999 },
    @{ section = 'System Access'; key = 'RequireLogonToChangePassword'; type = 'boolean'; min = $null; max = $null },
    @{ section = 'System Access'; key = 'ForceLogoffWhenHourExpire'; type = 'boolean'; min = $null; max = $null },
    @{ section = 'System Access'; key = 'NewAdministratorName'; type = 'string'; min = $null; max = $null },
    @{ section = 'System Access'; key = 'NewGuestName'; type = 'string'; min = $null; max = $null },
    @{ section = 'System Access'; key = 'LSAAnonymousNameLookup'; type = 'boolean'; min = $null; max = $null },
    @{ section = 'System Access'; key = 'EnableAdminAccount'; type = 'boolean'; min = $null; max = $null },
    @{ section = 'System Access'; key = 'EnableGuestAccount'; type = 'boolean'; min = $null; max = $null },
    @{ section = 'Kerberos Policy'; key = 'MaxTicketAge'; type = 'integer'; min = 0; max = 99999 },
    @{ section = 'Kerberos Policy'; key = 'MaxRenewAge'; type = 'integer'; min = 0; max = 99999 },
    @{ section = 'Kerberos Policy'; key = 'MaxServiceAge'; type = 'integer'; min = 0; max = 99999 },
    @{ section = 'Kerberos Policy'; key = 'MaxClockSkew'; type = 'integer'; min = 0; max = 99999 },
    @{ section = 'Kerberos Policy'; key = 'TicketValidateClient'; type = 'boolean'; min = $null; max = $null }
)
