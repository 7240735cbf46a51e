#!/usr/bin/env node
/**
 * Generates the weather node's example data: two weeks of simulated weather at the Chajnantor plateau
 * (Atacama, 5200 m, longitude -67.76°), ending at a fixed date so that the files are reproducible
 * byte for byte. Deterministic: a seeded PRNG (mulberry32) and no clock.
 *
 *   node scripts/generate-weather-data.js [OUT_DIR]    (default data-nodes/weather/example-data)
 *
 * Needs the build (`make build`): the PRNG is the simulator's, from dist/data-nodes/sim/model.js.
 *
 * The model runs at one-minute resolution; hourly files hold the value at each full hour, and two
 * quantities are also written every minute. Files are in the original sisock weather format (see
 * data-nodes/weather/format.ts): description, timeline and units header lines, then `<time> <value>`.
 *
 *   temperature      C      diurnal cycle peaking mid-afternoon local time + weather systems + noise
 *   humidity         %      dry, anti-correlated with the diurnal temperature, occasional humid spells
 *   pressure         hPa    ~556 hPa, slow synoptic changes + semi-diurnal atmospheric tide
 *   wind_speed       m/s    stronger in the afternoon, gusty, never negative
 *   wind_direction   deg    mostly westerly, a circular quantity kept in [0, 360)
 *   temperature_1min, wind_speed_1min   the same, every minute
 */
'use strict';
const fs = require('fs');
const path = require('path');

const SEED = 20261101;
const END = Date.UTC(2026, 10, 1) / 1000; // 2026-11-01T00:00:00Z, exclusive
const DAYS = 14;
const START = END - DAYS * 86400;
const LONGITUDE = -67.76;

const MODEL = path.join(__dirname, '..', 'dist', 'data-nodes', 'sim', 'model.js');
if (!fs.existsSync(MODEL)) {
  console.error(`${MODEL} is missing: build first (make build)`);
  process.exit(1);
}
const { mulberry32 } = require(MODEL);
const rand = mulberry32(SEED);
let spare = null;
function gauss() {
  if (spare !== null) {
    const s = spare;
    spare = null;
    return s;
  }
  let u = 0;
  while (u === 0) u = rand();
  const v = rand();
  const r = Math.sqrt(-2 * Math.log(u));
  spare = r * Math.sin(2 * Math.PI * v);
  return r * Math.cos(2 * Math.PI * v);
}

/** Ornstein-Uhlenbeck process with stationary standard deviation `sd` and time constant `tau` (s). */
function ou(sd, tau, dt) {
  let x = sd * gauss();
  const k = dt / tau;
  const kick = sd * Math.sqrt(2 * k);
  return () => (x += -x * k + kick * gauss());
}

const DT = 60;
const synTemp = ou(2.0, 2.5 * 86400, DT);
const fastTemp = ou(0.25, 600, DT);
const synHum = ou(1.1, 1.5 * 86400, DT);
const fastHum = ou(0.08, 1800, DT);
const synPres = ou(1.6, 3 * 86400, DT);
const fastPres = ou(0.05, 900, DT);
const synWind = ou(0.35, 86400, DT);
const gust = ou(0.18, 300, DT);
const dirWander = ou(35, 6 * 3600, DT);
const dirJitter = ou(8, 600, DT);

const series = {
  temperature: [],
  humidity: [],
  pressure: [],
  wind_speed: [],
  wind_direction: [],
  temperature_1min: [],
  wind_speed_1min: [],
};

for (let t = START; t < END; t += DT) {
  const localHour = (((t / 3600 + LONGITUDE / 15) % 24) + 24) % 24;
  const day = (2 * Math.PI * (localHour - 14.5)) / 24;
  const diurnal = 4.5 * Math.cos(day) + 0.8 * Math.cos(2 * day);
  const temperature = -1.5 + synTemp() + diurnal + fastTemp();
  const hx = -1.6 + synHum() - 0.12 * diurnal + fastHum();
  const humidity = Math.min(100, Math.max(1, 100 / (1 + Math.exp(-hx))));
  const tide = 0.9 * Math.cos((2 * Math.PI * 2 * (localHour - 10)) / 24);
  const pressure = 556 + synPres() + tide + fastPres();
  const afternoon = Math.max(0, Math.sin((2 * Math.PI * (localHour - 9)) / 24));
  const windSpeed = Math.max(0, (3 + 6 * afternoon) * Math.exp(synWind() + gust()));
  const direction = (((285 + dirWander() + dirJitter()) % 360) + 360) % 360;
  const minute = { temperature, humidity, pressure, windSpeed, direction };
  series.temperature_1min.push([t, minute.temperature.toFixed(2)]);
  series.wind_speed_1min.push([t, minute.windSpeed.toFixed(2)]);
  if (t % 3600 === 0) {
    series.temperature.push([t, temperature.toFixed(2)]);
    series.humidity.push([t, humidity.toFixed(1)]);
    series.pressure.push([t, pressure.toFixed(1)]);
    series.wind_speed.push([t, windSpeed.toFixed(1)]);
    series.wind_direction.push([t, (Math.round(direction) % 360) + '']);
  }
}

const headers = {
  temperature: ['Air temperature at the site weather station (simulated, Chajnantor 5200 m).', 'hourly', 'C'],
  humidity: ['Relative humidity (simulated).', 'hourly', '%'],
  pressure: ['Barometric pressure (simulated).', 'hourly', 'hPa'],
  wind_speed: ['Wind speed (simulated).', 'hourly', 'm/s'],
  wind_direction: ['Wind direction, degrees from north, circular in [0, 360) (simulated).', 'hourly', 'deg'],
  temperature_1min: ['Air temperature, one-minute samples (simulated).', 'minutely', 'C'],
  wind_speed_1min: ['Wind speed, one-minute samples (simulated).', 'minutely', 'm/s'],
};

const outDir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'data-nodes', 'weather', 'example-data'));
fs.mkdirSync(outDir, { recursive: true });
let total = 0;
for (const [field, rows] of Object.entries(series)) {
  const [description, timeline, units] = headers[field];
  const lines = [`# ${description}`, `# ${timeline}`, `# ${units}`, `# generated by scripts/generate-weather-data.js, seed ${SEED}`];
  let lastDay = '';
  for (const [t, v] of rows) {
    const day = new Date(t * 1000).toISOString().slice(0, 10);
    if (day !== lastDay) lines.push(`# ${(lastDay = day)}`);
    lines.push(`${t} ${v}`);
  }
  const text = lines.join('\n') + '\n';
  fs.writeFileSync(path.join(outDir, `${field}.dat`), text);
  total += text.length;
  console.log(`${field}.dat: ${rows.length} samples, ${text.length} bytes`);
}
console.log(`total ${total} bytes in ${outDir}`);
