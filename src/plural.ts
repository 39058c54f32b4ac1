/** "1 resource", "2 resources": a count with its noun, for every summary line the tool prints. */
export function counted(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}
