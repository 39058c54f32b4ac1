// uvu with a name filter taken from WINSTATE_TEST_NAME (a regular expression).
import * as uvu from 'uvu';

const pattern = new RegExp(process.env.WINSTATE_TEST_NAME || '');

function filtered(suite) {
  const register = (name, handler) => (pattern.test(name) ? suite(name, handler) : suite.skip(name, handler));
  return Object.assign(register, suite);
}

export const test = filtered(uvu.test);
export const suite = (...args) => filtered(uvu.suite(...args));
export const exec = uvu.exec;
