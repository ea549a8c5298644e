import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fer } from './helpers/cli.js';
import { ferCsv, pixelText, withTempDir } from './helpers/fixtures.js';

test('fer data stats prints the class histogram per split, and --json', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'fer.csv');
    await writeFile(file, ferCsv([[3, 'Training'], [3, 'Training'], [0, 'PublicTest']]));
    const table = await fer('data', 'stats', file);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /Training\s+2\s+0\s+0\s+0\s+2\s+0\s+0\s+0/);
    assert.match(table.stdout, /PublicTest\s+1\s+1\s+0/);
    const json = JSON.parse((await fer('data', 'stats', file, '--json')).stdout);
    assert.equal(json.splits[0].classes.Happy, 2);
  });
});

test('fer data stats stops with a non-zero exit on a bad row, or counts it with --skip-bad-rows', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, `emotion,pixels,Usage\n9,${pixelText(0)},Training\n1,${pixelText(1)},Training\n`);
    const stopped = await fer('data', 'stats', file);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /bad\.csv:2: emotion: label "9"/);
    const skipped = await fer('data', 'stats', file, '--skip-bad-rows');
    assert.equal(skipped.code, 0);
    assert.match(skipped.stderr, /1 bad row\(s\) skipped/);
    assert.match(skipped.stdout, /Training\s+1\s+0\s+1/);
  });
});

test('every command has --help', async () => {
  const help = await fer('--help');
  const commands = [...help.stdout.matchAll(/^ {2}(\w[\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  assert.ok(commands.length > 0);
  for (const command of commands) {
    const sub = await fer(command, '--help');
    assert.equal(sub.code, 0, `${command} --help failed`);
    assert.match(sub.stdout, /Usage: fer/);
  }
});
