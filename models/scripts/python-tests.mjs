// Runs the Python pipeline tests when a Python with PyTorch is present; prints a clear SKIP line otherwise.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const python = process.env.STRATA_PYTHON ?? '/usr/bin/python3';
const training = join(dirname(fileURLToPath(import.meta.url)), '..', 'training');
const probe = spawnSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
if (probe.error || probe.status !== 0) {
  console.log(`SKIP python tests: ${python} cannot import torch and numpy (apt-get install -y python3-torch)`);
  process.exit(0);
}
const r = spawnSync(python, ['-W', 'ignore', '-m', 'unittest', 'discover', '-v', '-s', 'tests'], {
  cwd: training,
  stdio: 'inherit',
  env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '2' },
});
process.exit(r.status ?? 1);
