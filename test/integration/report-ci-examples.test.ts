// The CI examples do what they say: their winstate commands run here as written (real PowerShell),
// validate and the generated-script check pass, the snapshot test writes the JUnit and HTML files
// that the publishing steps pick up, and the JUnit file is valid for the CI's parser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { main, type CliIo } from '../../src/cli/cli.js';
import { tempDir } from '../helpers.js';
import { runCli } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const JUNIT_XSD = join(ROOT, 'test', 'fixtures', 'junit.xsd');

interface Step {
  name?: string;
  displayName?: string;
  run?: string;
  script?: string;
  uses?: string;
  task?: string;
  with?: Record<string, unknown>;
  inputs?: Record<string, unknown>;
  if?: string;
  condition?: string;
}

const cli = runCli;

/** The winstate invocations of some steps, as argument lists (the examples use no shell quoting). */
function winstateCommands(steps: Step[]): string[][] {
  return steps
    .map((s) => s.run ?? s.script ?? '')
    .filter((line) => line.startsWith('node bin/winstate.js '))
    .map((line) => line.trim().split(/\s+/).slice(2));
}

async function runExample(commands: string[][], substitute: (arg: string) => string): Promise<void> {
  const expected: Record<string, number> = { validate: 0, compile: 0, test: 2 };
  assert.equal(commands.map((c) => c[0]), ['validate', 'compile', 'test'], 'validate, check generated scripts, test');
  assert.ok(commands[1]!.includes('--check'));
  assert.ok(commands[2]!.includes('--snapshot'));
  for (const argv of commands) {
    const r = await cli(argv.map(substitute));
    assert.is(r.code, expected[argv[0]!], `${argv.join(' ')}: ${r.stderr}`);
  }
}

function junitValid(file: string): void {
  const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, file], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
}

test('GitHub Actions example: commands run as written; JUnit, HTML and SARIF are written where the publish steps look', async () => {
  const workflow = parse(readFileSync(join(ROOT, 'examples', 'ci', 'github-actions.yml'), 'utf8')) as { jobs: Record<string, { steps: Step[] }> };
  const steps = Object.values(workflow.jobs)[0]!.steps;
  const dir = tempDir();
  await runExample(winstateCommands(steps), (arg) => arg.replace(/(^|:)reports\//, `$1${dir}/reports/`));
  const junitStep = steps.find((s) => s.uses?.startsWith('mikepenz/action-junit-report'))!;
  const junit = String(junitStep.with!.report_paths);
  junitValid(join(dir, junit));
  const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
  for (const path of String(upload.with!.path).trim().split('\n')) assert.ok(existsSync(join(dir, path.trim())), path);
  assert.ok(readFileSync(join(dir, 'reports', 'winstate.html'), 'utf8').startsWith('<!DOCTYPE html>'));
  const sarif = steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif'))!;
  assert.ok(existsSync(join(dir, String(sarif.with!.sarif_file))));
  for (const s of [junitStep, upload, sarif]) assert.match(String(s.if), /!cancelled\(\)/, 'published even when the test step found drift');
});

test('Azure Pipelines example: commands run as written; JUnit and HTML are written where the publish tasks look', async () => {
  const pipeline = parse(readFileSync(join(ROOT, 'examples', 'ci', 'azure-pipelines.yml'), 'utf8')) as { steps: Step[]; variables: Record<string, string> };
  const dir = tempDir();
  const reportDir = join(dir, 'winstate');
  assert.is(pipeline.variables.reportDir, '$(Build.ArtifactStagingDirectory)/winstate');
  await runExample(winstateCommands(pipeline.steps), (arg) => arg.replace('$(reportDir)', reportDir));
  const publish = pipeline.steps.find((s) => s.task === 'PublishTestResults@2')!;
  assert.is(publish.inputs!.testResultsFormat, 'JUnit');
  junitValid(String(publish.inputs!.testResultsFiles).replace('$(reportDir)', reportDir));
  const artifact = pipeline.steps.find((s) => s.task === 'PublishPipelineArtifact@1')!;
  assert.is(artifact.inputs!.targetPath, '$(reportDir)');
  assert.ok(existsSync(join(reportDir, 'winstate.html')));
  for (const s of [publish, artifact]) assert.is(s.condition, 'succeededOrFailed()');
});

test.run();
