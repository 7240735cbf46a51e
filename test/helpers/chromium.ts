/** The Chromium the web-page tests drive (SISOCK_CHROMIUM or Debian's), whether it is required here, and where screenshots go. */
import fs from 'node:fs';
import path from 'node:path';
import { servicesRequired } from './services';

export const CHROMIUM = process.env.SISOCK_CHROMIUM ?? '/usr/bin/chromium';
/** On CI or with SISOCK_REQUIRE_SERVICES a missing Chromium fails instead of skipping. */
export const chromiumRequired = servicesRequired();
export const haveChromium = fs.existsSync(CHROMIUM);
/** test-output/ at the repository root (screenshots, downloads). */
export const TEST_OUTPUT = path.join(__dirname, '..', '..', 'test-output');
