import { templateUnit } from './template-setting.js';

/** The [System Access] options held by the LSA and SAM rather than the registry (guest account status, renames, ...). */
export const securityPolicyUnit = templateUnit(
  'SecurityPolicy',
  'A security option held by the LSA/SAM ([System Access]: LSAAnonymousNameLookup, EnableAdminAccount, EnableGuestAccount, NewAdministratorName, NewGuestName, ForceLogoffWhenHourExpire) by its key or Security Options name.',
);
