import { templateUnit } from '../security-policy/template-setting.js';

/** Password, lockout and Kerberos policy: [System Access] and [Kerberos Policy] keys of the security template. */
export const accountPolicyUnit = templateUnit(
  'AccountPolicy',
  'An account policy (password, lockout or Kerberos policy) by its template key or title, with a value and an optional condition.',
);
