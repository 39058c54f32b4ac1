// One rule, two languages: the shared condition and state-text cases through the runtime's
// Test-WsCondition and Format-Ws<Kind>StateText, compared with the answers TypeScript gives
// (test/unit/kinds-condition.test.ts and kinds-report.test.ts check TypeScript against the same files).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { projectPath } from '../../src/paths.js';
import { meetsCondition, parseCondition, psCondition, type ConditionType } from '../../src/kinds/condition.js';
import { stateText } from '../../src/report/model.js';
import { psJoin, psLiteral, PsTyped, ps } from '../../src/compile/quote.js';
import type { KindName } from '../../src/kinds/kind.js';
import type { StateView } from '../../src/engine/results.js';
import { KindsShell } from '../kinds-helpers.js';
import { parseXml } from '../../src/catalog/stig/xml.js';
import { ruleDifference, ruleFacts } from '../../src/kinds/applocker/kind.js';

const shell = new KindsShell();
test.after(() => shell.close());

interface ConditionCase { condition: Record<string, unknown>; type: ConditionType; data: number | string; expected: boolean }
interface StateCase { kind: KindName; view: StateView | null; text: string }
const read = <T>(name: string) => (JSON.parse(readFileSync(projectPath('test', 'fixtures', 'kinds', name), 'utf8')) as { cases: T[] }).cases;

/** The data as the runtime holds it: registry numbers typed as their store reads them, template integers as int64. */
function runtimeData(type: ConditionType, data: number | string): unknown {
  if (type === 'DWord') return new PsTyped('uint32', data as number);
  if (type === 'QWord') return new PsTyped('uint64', BigInt(data));
  return data;
}

test('Test-WsCondition answers every shared condition case as meetsCondition does', async () => {
  const cases = read<ConditionCase>('condition-cases.json');
  const items = cases.map((c) => {
    const parsed = parseCondition(c.condition, c.type);
    if (!parsed.ok) throw new Error(`${JSON.stringify(c.condition)}: ${parsed.message}`);
    assert.is(meetsCondition(parsed.condition, c.type, c.data), c.expected, `TypeScript: ${JSON.stringify(c)}`);
    return ps`@{ Condition = ${psLiteral(psCondition(parsed.condition, c.type))}; Data = ${psLiteral(runtimeData(c.type, c.data))} }`;
  });
  const answers = await shell.json<boolean>(ps`foreach ($case in @(${psJoin(items, ', ')})) { [bool](Test-WsCondition -Condition $case.Condition -Data $case.Data) }`);
  assert.is(answers.length, cases.length);
  cases.forEach((c, i) => assert.is(answers[i], c.expected, `PowerShell: ${JSON.stringify(c)}`));
});

test('each kind\'s Format function, found through the kind table, words every shared view as stateText does', async () => {
  const cases = read<StateCase>('state-text-cases.json');
  const items = cases.map((c) => {
    assert.is(stateText(c.view, c.kind), c.text, `TypeScript: ${JSON.stringify(c)}`);
    return ps`@{ Kind = ${c.kind}; View = ${psLiteral(c.view)} }`;
  });
  const texts = await shell.json<string>(ps`foreach ($case in @(${psJoin(items, ', ')})) { [string](& (Get-WsKindModule -Kind $case.Kind).Format -View $case.View) }`);
  assert.is(texts.length, cases.length);
  const differing = cases.map((c, i) => ({ c, got: texts[i] })).filter(({ c, got }) => got !== c.text).map(({ c, got }) => `${c.kind} ${JSON.stringify(c.view)}: runtime "${got}", expected "${c.text}"`);
  assert.equal(differing, []);
});

test('AppLocker rule facts and differences: ConvertTo-WsAppLockerRuleFactSet and Get-WsAppLockerRuleDifference answer every shared case as ruleFacts and ruleDifference do', async () => {
  const { facts, differences } = JSON.parse(readFileSync(projectPath('test', 'fixtures', 'kinds', 'applocker-rule-cases.json'), 'utf8')) as {
    facts: { xml: string; facts: string[] }[];
    differences: { wanted: string; actual: string; where: string[] }[];
  };
  const of = (xml: string) => ruleFacts(parseXml(xml));
  for (const c of facts) assert.equal(of(c.xml), c.facts, `TypeScript: ${c.xml}`);
  for (const c of differences) assert.equal(ruleDifference(of(c.wanted), of(c.actual)), c.where, `TypeScript: ${c.actual}`);
  assert.equal(facts[0]!.facts, facts[1]!.facts, 'labels, attribute order, Id case and spelling do not count');
  assert.ok(differences.some((c) => c.where.length === 0) && differences.some((c) => c.where.length > 1), 'cases with no and with several differences');

  const got = await shell.json<{ facts: string[]; where: string[] }>(ps`
    $factsOf = { param($xml) [string[]](ConvertTo-WsAppLockerRuleFactSet -Text $xml).Facts }
    foreach ($xml in @(${psJoin(facts.map((c) => ps`${c.xml}`), ', ')})) { [pscustomobject]@{ facts = @(& $factsOf $xml); where = @() } }
    foreach ($pair in @(${psJoin(differences.map((c) => ps`@(${c.wanted}, ${c.actual})`), ', ')})) {
      [pscustomobject]@{ facts = @(); where = [string[]](Get-WsAppLockerRuleDifference -Wanted (& $factsOf $pair[0]) -Actual (& $factsOf $pair[1])) }
    }`);
  assert.is(got.length, facts.length + differences.length);
  facts.forEach((c, i) => assert.equal(got[i]!.facts, c.facts, `PowerShell: ${c.xml}`));
  differences.forEach((c, i) => assert.equal(got[facts.length + i]!.where, c.where, `PowerShell: ${c.actual}`));
});

test.run();
