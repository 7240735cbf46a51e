/**
 * Whether the real services and peers the tests use are required here: on CI (env CI) or when asked
 * (SISOCK_REQUIRE_SERVICES=1/true/yes; .ci/run sets it), a missing one fails its suite instead of
 * skipping it. The one reading of that switch for every test helper.
 */
const on = (v: string | undefined): boolean => /^(1|true|yes)$/i.test(v ?? '');

export function servicesRequired(): boolean {
  return on(process.env.CI) || on(process.env.SISOCK_REQUIRE_SERVICES);
}
