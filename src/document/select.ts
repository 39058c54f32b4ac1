/**
 * `--only` and `--skip`: a run limited to some of a document's resources, named as waivers name
 * them: the resource name, its catalog id, a STIG id it cites (V-, SV-, WN16- forms) or a CIS number.
 */
import { settingInfo } from '../kinds/info.js';
import { closestWord } from '../suggest.js';
import type { Plan, PlannedResource } from './validate.js';

export class SelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectionError';
  }
}

/** Every word a resource can be selected by, lower case. */
function namesOf(r: PlannedResource): string[] {
  const refs = settingInfo(r).references;
  return [r.name, r.entry?.id, ...refs.stig, ...refs.cis].filter((n): n is string => typeof n === 'string').map((n) => n.trim().toLowerCase());
}

/** A STIG rule id as entries cite it: SV-88319r1_rule is rule SV-88319. */
function bare(word: string): string {
  return word.trim().toLowerCase().replace(/r\d+_rule$/, '');
}

function matching(plan: Plan, word: string, option: string): PlannedResource[] {
  const found = plan.resources.filter((r) => namesOf(r).includes(bare(word)));
  if (found.length === 0) {
    const hint = closestWord(word, [...new Set(plan.resources.flatMap((r) => [r.name, ...settingInfo(r).references.stig, ...settingInfo(r).references.cis]))]);
    throw new SelectionError(`${option} ${word}: no resource of ${plan.name} has that name, catalog id, STIG id or CIS number${hint ? `; did you mean "${hint}"?` : ''}`);
  }
  return found;
}

/**
 * The plan with only the resources `only` names (all when empty) minus those `skip` names; an
 * unknown word is an error (a typo must not widen or narrow a run unnoticed), and so is a selection
 * that leaves nothing.
 */
export function selectResources(plan: Plan, only: readonly string[], skip: readonly string[]): Plan {
  if (only.length === 0 && skip.length === 0) return plan;
  const chosen = new Set(only.length === 0 ? plan.resources : only.flatMap((w) => matching(plan, w, '--only')));
  for (const word of skip) for (const r of matching(plan, word, '--skip')) chosen.delete(r);
  if (chosen.size === 0) throw new SelectionError(`--only/--skip leave none of the ${plan.resources.length} resources of ${plan.name} to run`);
  return { ...plan, resources: plan.resources.filter((r) => chosen.has(r)) };
}
