/**
 * Run by jest in every test file (jest.config.js setupFilesAfterEnv): the archive scanner's decode pools
 * are kept by the process between scanners (DecodePool.lease); each test file ends them, so their
 * workers do not pile up in a jest worker that runs many files.
 */
import { DecodePool } from '../../data-nodes/archive/decode-pool';

afterAll(() => DecodePool.closeShared());
