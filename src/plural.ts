/** "1 resource", "2 resources": a count with its noun, for every summary line the tool prints. */
export function counted(n: number, singular: string): string {
  return `${n} ${singular}${n === 1 ? '' : 's'}`;
}
