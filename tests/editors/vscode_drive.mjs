// Drives code-server's workbench in headless Chromium (playwright-core) like a person would:
// open the seed file, see the squiggle, hover it, open the quick-fix menu with Ctrl+.,
// pick "Remove `.detach()`", see the squiggle go, save with Ctrl+S; then see the code lens above
// loss.backward(), run "gradguard: Show gradient flow" and click a node of the rendered graph.
// Usage: node vscode_drive.mjs <url> <file name> <artifacts dir> <dom report path> [probe report path]
// With a probe report path, waits for the in-extension-host probe to finish first, so the two
// never act at the same time. With "-" as the file name it only loads the workbench (code-server
// starts the extension host for a connected window), waits for the probe, takes a screenshot and
// stops: the notebook session of test_vscode.py.
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, fileName, artifacts, reportPath, probeReport] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const report = { steps: [] };
const SQUIGGLE = '.monaco-editor .squiggly-error, .monaco-editor .squiggly-warning, .monaco-editor .squiggly-info';
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file }).catch(() => {});
  return file;
}

async function waitForFile(path, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The text-document session: what a person does with seed_gg201.py.
async function driveFile(page) {
  await screenshot(page, 'workbench');

  // Open the file with Quick Open.
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => {});
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  await input.fill(fileName);
  await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ timeout: 30000 });
  await page.keyboard.press('Enter');
  await page.locator(`.tab[data-resource-name="${fileName}"], .tab:has-text("${fileName}")`).first().waitFor({ timeout: 30000 });
  report.steps.push('opened');

  // The diagnostic shows as a squiggle.
  const squiggle = page.locator(SQUIGGLE).first();
  await squiggle.waitFor({ state: 'attached', timeout: 120000 });
  report.squiggleClass = await squiggle.getAttribute('class');
  report.steps.push('squiggle');
  await screenshot(page, 'squiggle');

  // Hover the squiggle: the markdown hover shows the finding.
  const box = await squiggle.boundingBox();
  if (!box) throw new Error('squiggle has no bounding box');
  const cx = box.x + Math.min(box.width / 2, 20);
  const cy = box.y + box.height / 2 - 4;
  const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'GG201' }).first();
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.mouse.move(cx - 40, cy - 60);
    await page.mouse.move(cx, cy, { steps: 5 });
    try {
      await hover.waitFor({ state: 'visible', timeout: 6000 });
      break;
    } catch (e) {
      if (attempt === 4) throw e;
    }
  }
  report.hoverText = (await hover.innerText()).slice(0, 2000);
  report.steps.push('hover');
  await screenshot(page, 'hover');

  // Put the cursor on the problem: the lightbulb appears.
  await page.mouse.move(700, 850);
  await page.keyboard.press('Escape');
  await page.mouse.click(cx, cy);
  const bulb = page.locator('.lightBulbWidget .codicon, .lightBulbWidget').first();
  report.lightbulb = await bulb
    .waitFor({ state: 'visible', timeout: 15000 })
    .then(() => true)
    .catch(() => false);
  await screenshot(page, 'lightbulb');

  // Ctrl+. opens the quick-fix menu; pick the fix.
  await page.keyboard.press('Control+.');
  const menu = page.locator('.action-widget').filter({ hasText: 'GG201' }).first();
  await menu.waitFor({ state: 'visible', timeout: 20000 });
  const rows = menu.locator('.monaco-list-row');
  await rows.first().waitFor({ timeout: 20000 });
  report.quickFixes = await rows.allInnerTexts();
  await screenshot(page, 'quickfix-menu');
  const fixRow = rows.filter({ hasText: /Remove.*detach/ }).first();
  await fixRow.hover();
  await fixRow.click();
  report.steps.push('quickfix');

  // The squiggle goes away.
  await page.waitForFunction((sel) => !document.querySelector(sel), SQUIGGLE, { timeout: 60000 });
  report.steps.push('cleared');
  await screenshot(page, 'fixed');

  // Save.
  await page.keyboard.press('Control+S');
  await page.waitForFunction(() => !document.querySelector('.tab.active.dirty'), null, { timeout: 20000 });
  report.steps.push('saved');
  report.statusbar = (await page.locator('.part.statusbar').innerText()).replace(/\s+/g, ' ').slice(0, 500);
  await screenshot(page, 'saved');

  // The code lens above loss.backward(): after the fix, the loss trains x.
  const lens = page.locator('.codelens-decoration').filter({ hasText: 'trains' }).first();
  await lens.waitFor({ state: 'visible', timeout: 60000 });
  report.lensText = (await page.locator('.codelens-decoration').allInnerTexts()).join(' | ');
  report.steps.push('lens');
  await screenshot(page, 'lens');

  // "gradguard: Show gradient flow": a webview beside the editor renders the graph (bundled mermaid).
  await page.keyboard.press('Control+Shift+P');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  await input.fill('>gradguard: Show gradient flow');
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Show gradient flow' }).first().waitFor({ timeout: 30000 });
  await page.keyboard.press('Enter');
  let graphFrame;
  const deadline = Date.now() + 60000;
  while (!graphFrame) {
    for (const f of page.frames()) {
      if (await f.locator('#graph svg g.node').count().catch(() => 0)) graphFrame = f;
    }
    if (!graphFrame) {
      if (Date.now() > deadline) throw new Error('the flow view did not render a graph');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  report.flowNodes = await graphFrame.locator('#graph g.node').allTextContents();
  report.steps.push('flow-view');
  await screenshot(page, 'flow-view');
  // Clicking a node reveals its line in the editor.
  const node = graphFrame.locator('#graph g.node[data-line]').first();
  report.clickedLine = Number(await node.getAttribute('data-line'));
  // The webview lives in nested iframes and mermaid may still be laying the graph out when the node first
  // appears, so under load a click can land before the node settles: click again (up to 90 s) until the
  // editor's cursor is on the node's line. A reveal that never happens still fails the test.
  const cursorOnLine = page.locator('.part.statusbar').filter({ hasText: `Ln ${report.clickedLine},` }).first();
  const revealDeadline = Date.now() + 90000;
  report.flowClicks = 0;
  const before = (await page.locator('.part.statusbar').innerText()).match(/Ln (\d+),/);
  report.lineBeforeReveal = before ? Number(before[1]) : null;
  for (;;) {
    await node.click();
    report.flowClicks += 1;
    try {
      await cursorOnLine.waitFor({ timeout: 10000 });
      break;
    } catch (e) {
      if (Date.now() > revealDeadline) throw e;
    }
  }
  report.steps.push('flow-reveal');
  await screenshot(page, 'flow-reveal');
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => (report.pageErrors ??= []).push(String(e).slice(0, 300)));
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60000 });
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 90000 });
  report.steps.push('workbench');
  if (probeReport) {
    await waitForFile(probeReport, 240000);
    report.steps.push('probe-finished');
  }
  if (fileName === '-') {
    // Give the workbench a moment to paint what the probe showed (the notebook editor).
    await page.waitForTimeout(1500);
    await screenshot(page, 'probe-finished');
    report.steps.push('done');
  } else {
    await driveFile(page);
  }
} catch (e) {
  report.error = String((e && e.stack) || e);
  if (page) report.failureShot = await screenshot(page, 'failure');
} finally {
  writeFileSync(reportPath, JSON.stringify(report, null, 2));
  await browser.close();
}
process.exit(report.error ? 1 : 0);
