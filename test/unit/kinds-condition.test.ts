import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { projectPath } from '../../src/paths.js';
import { conditionView, meetsCondition, parseCondition, psCondition, type ConditionType } from '../../src/kinds/condition.js';

interface Case { condition: Record<string, unknown>; type: ConditionType; data: number | string; expected: boolean; note?: string }
const { cases } = JSON.parse(readFileSync(projectPath('test', 'fixtures', 'kinds', 'condition-cases.json'), 'utf8')) as { cases: Case[] };

test('every shared condition case gives its expected answer in TypeScript', () => {
  assert.ok(cases.length >= 40);
  for (const c of cases) {
    const parsed = parseCondition(c.condition, c.type);
    assert.ok(parsed.ok, `${JSON.stringify(c.condition)} parses for ${c.type}`);
    if (!parsed.ok) continue;
    assert.is(meetsCondition(parsed.condition, c.type, c.data), c.expected, `${JSON.stringify(c)}`);
  }
  // Both answers occur for anyOf, for each template kind.
  for (const type of ['integer', 'boolean', 'string']) {
    assert.ok(cases.some((c) => c.type === type && c.expected) && cases.some((c) => c.type === type && !c.expected), type);
  }
});

test('anyOf survives the view and the runtime form, nested', () => {
  const parsed = parseCondition({ atMost: 100, anyOf: [{ atLeast: 15 }, { anyOf: [{ oneOf: [0] }] }] }, 'integer');
  assert.ok(parsed.ok);
  if (!parsed.ok) return;
  assert.equal(conditionView(parsed.condition), { atMost: 100, anyOf: [{ atLeast: 15 }, { anyOf: [{ oneOf: [0] }] }] });
  const ps = psCondition(parsed.condition, 'integer');
  assert.is(ps.AtMost, 100);
  assert.is(ps.Signed, true);
  assert.equal((ps.AnyOf as Record<string, unknown>[]).map((c) => c.AtLeast ?? 'nested'), [15, 'nested']);
  const text = parseCondition({ not: ['Guest'] }, 'string');
  assert.ok(text.ok && psCondition(text.condition, 'string').IgnoreCase === true);
});

test('bad conditions are refused with the path of the problem', () => {
  const bad = (raw: Record<string, unknown>, type: ConditionType, path: (string | number)[], words: RegExp) => {
    const r = parseCondition(raw, type);
    assert.not.ok(r.ok, JSON.stringify(raw));
    if (r.ok) return;
    assert.equal(r.path, path);
    assert.match(r.message, words);
  };
  bad({ anyOf: [] }, 'DWord', ['anyOf'], /at least one/);
  bad({ anyOf: [{ atLeast: -1 }] }, 'DWord', ['anyOf', 0, 'atLeast'], /0\.\.4294967295/);
  bad({ anyOf: [{ oneOf: ['x'] }] }, 'integer', ['anyOf', 0, 'oneOf', 0], /numbers/);
  bad({ atLeast: 3 }, 'string', ['atLeast'], /numbers/);
  bad({ oneOf: [2] }, 'boolean', ['oneOf', 0], /outside/);
  bad({ bitsSet: 1 }, 'integer', ['bitsSet'], /DWord and QWord/);
});

test.run();
