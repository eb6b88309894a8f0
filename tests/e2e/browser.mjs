// Debian's Chromium (/usr/bin/chromium), started by us with fixed flags and
// a fresh profile, in a process group of its own, driven by playwright-core
// over CDP. Never a downloaded browser.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { demoRequire, track, untrack, alive, groupMembers, waitFor, sleep, RUNS } from './harness.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const FLAGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium() {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium fonts-liberation`);
    }
    // a fresh profile under build/e2e-run/ (make e2e empties it first)
    fs.mkdirSync(RUNS, { recursive: true });
    const profile = fs.mkdtempSync(path.join(RUNS, 'chromium-profile-'));
    const child = spawn(CHROMIUM, [
        ...FLAGS,
        `--user-data-dir=${profile}`,
        '--remote-debugging-address=127.0.0.1',
        '--remote-debugging-port=0',
        '--window-size=1000,800',
        'about:blank',
    ], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    const entry = track(child.pid);
    let err = '';
    child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
    let exited = false;
    child.on('exit', () => { exited = true; });

    let browser;
    try {
        const portFile = path.join(profile, 'DevToolsActivePort');
        const port = await waitFor(() => {
            if (exited) {
                throw new Error(`chromium exited at start:\n${err}`);
            }
            try {
                const p = fs.readFileSync(portFile, 'utf8').split('\n')[0].trim();
                return /^\d+$/.test(p) ? Number(p) : null;
            } catch {
                return null;
            }
        }, { timeout: 30000, what: 'chromium DevToolsActivePort' });
        const { chromium } = demoRequire('playwright-core');
        browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { timeout: 30000 });
    } catch (e) {
        await kill();
        throw e;
    }

    async function kill() {
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
        await waitFor(() => groupMembers(child.pid).length === 0, { timeout: 10000, what: 'chromium to exit' })
            .catch(() => {});
        for (const pid of groupMembers(child.pid)) {
            try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
        untrack(entry);
        fs.rmSync(profile, { recursive: true, force: true });
    }

    return {
        browser,
        pid: child.pid,
        async close() {
            try {
                await Promise.race([browser.close(), sleep(5000)]);
            } catch { /* already gone */ }
            await kill();
            const left = groupMembers(child.pid).filter(alive);
            return left;
        },
    };
}
