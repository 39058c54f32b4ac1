import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { locatePwsh } from '../../src/bridge/locate.js';
import { tempDir } from '../helpers.js';

/**
 * A real OpenSSH server for the fleet tests: loopback addresses only, its own host key, config and
 * authorized_keys in a temp dir, PowerShell's SSH subsystem, key authentication. Stop it in a finally.
 */
export interface TestSshd {
  dir: string;
  port: number;
  /** A key the server accepts, and one it does not. */
  key: string;
  wrongKey: string;
  /** WINSTATE_STATE_DIR of the PowerShell sessions it starts (the "remote" state). */
  remoteState: string;
  stop(): Promise<void>;
}

export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** Starts sshd listening on each address (127.0.0.x) on one free port; waits until all accept, at most 20 s. */
export async function startSshd(addresses: string[]): Promise<TestSshd> {
  if (!SSHD) throw new Error('sshd not found: install openssh-server (bin/setup.mjs does, as root)');
  const dir = tempDir('winstate-sshd-');
  const key = join(dir, 'client');
  const wrongKey = join(dir, 'wrong');
  keygen(join(dir, 'host'));
  keygen(key);
  keygen(wrongKey);
  writeFileSync(join(dir, 'authorized_keys'), spawnSync('cat', [`${key}.pub`], { encoding: 'utf8' }).stdout, { mode: 0o600 });
  const remoteState = join(dir, 'remote-state');
  mkdirSync(remoteState);
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on
  process.env.WINSTATE_SSH_KNOWN_HOSTS = join(dir, 'known_hosts');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    // sshd listens on at most 16 sockets: one server per 16 addresses, all on the same port.
    const chunks: string[][] = [];
    for (let i = 0; i < addresses.length; i += 16) chunks.push(addresses.slice(i, i + 16));
    const servers = chunks.map((chunk, i) => serve(dir, i, port, chunk, remoteState));
    const stop = async () => {
      await Promise.all(servers.map((s) => s.stop()));
    };
    const deadline = Date.now() + 20_000;
    let ready = false;
    while (Date.now() < deadline && servers.every((s) => s.child.exitCode === null)) {
      const results = await Promise.all(addresses.map((a) => canConnect(a, port)));
      if (results.every(Boolean)) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (ready) return { dir, port, key, wrongKey, remoteState, stop };
    await stop();
    const log = servers.map((s) => s.log()).join('\n');
    if (!/Address already in use/i.test(log)) throw new Error(`sshd did not start: ${log}`);
  }
  throw new Error('sshd found no free port in 5 tries');
}

function serve(dir: string, index: number, port: number, addresses: string[], remoteState: string) {
  const config = [
    `Port ${port}`,
    ...addresses.map((a) => `ListenAddress ${a}`),
    `HostKey ${join(dir, 'host')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    `PidFile ${join(dir, `sshd-${index}.pid`)}`,
    `SetEnv WINSTATE_STATE_DIR=${remoteState} POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off`,
    `Subsystem powershell ${locatePwsh()} -sshs -NoLogo -NoProfile`,
  ].join('\n');
  const file = join(dir, `sshd_config-${index}`);
  writeFileSync(file, `${config}\n`);
  const child: ChildProcess = spawn(SSHD!, ['-D', '-e', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  };
  return { child, stop, log: () => log };
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
