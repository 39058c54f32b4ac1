import type { FleetArgs, FleetIo } from '../fleet/command.js';
export async function dscCommand(_args: FleetArgs, io: FleetIo): Promise<number> {
  io.stderr('winstate: dsc is not built yet\n');
  return 1;
}
