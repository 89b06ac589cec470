/**
 * Every captured fixture (real tool output, scripts/capture-fixtures.sh) is
 * loaded into a real store through the LineWriter, parsed, and spot-checked
 * against figures read off the raw text by a simple independent reading.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureParsed } from '../../src/mine/engine.js';
import type { ExpertStore } from '../../src/store/types.js';
import { fields, loadFixture, readFixture, tempStore, type Fixture, type TempStore } from './helpers.js';

const FIXTURES: Record<string, [tool: string, variant: string][]> = {
  vmstat: [['vmstat', 'plain'], ['vmstat', 'timestamped'], ['vmstat', 'wide'], ['vmstat', 'header-repeat'], ['vmstat', 'no-first']],
  'perf-stat': [['perf-stat', 'once'], ['perf-stat', 'interval'], ['perf-stat', 'per-thread'], ['perf-stat', 'interval-per-thread'], ['perf-stat', 'interval-per-cpu'], ['perf-stat', 'per-core'], ['perf-stat', 'interval-per-socket']],
  iozone: [['iozone', 'auto-read-write'], ['iozone', 'auto-all'], ['iozone', 'auto-gaps'], ['iozone', 'report'], ['iozone', 'throughput']],
  fio: [['fio', 'json'], ['fio', 'json-two-jobs'], ['fio', 'terse'], ['fio', 'terse-two-jobs'], ['fio', 'normal'], ['fio', 'normal-write']],
  dd: [['dd', 'write'], ['dd', 'read'], ['dd', 'small']],
  sar: [['sar', 'cpu'], ['sar', 'cswch'], ['sar', 'disk'], ['sar', 'cpu-12h'], ['sar', 'since-boot']],
  sadf: [['sadf', 'db-cpu'], ['sadf', 'db-disk'], ['sadf', 'db-cswch'], ['sadf', 'json-cpu'], ['sadf', 'json-disk'], ['sadf', 'json-cswch']],
  iostat: [['iostat', 'extended'], ['iostat', 'extended-timed'], ['iostat', 'extended-timed-12h'], ['iostat', 'no-first']],
  mpstat: [['mpstat', 'all'], ['mpstat', 'all-12h'], ['mpstat', 'since-boot']],
  pidstat: [['pidstat', 'cpu'], ['pidstat', 'disk'], ['pidstat', 'disk-busy'], ['pidstat', 'switches'], ['pidstat', 'threads'], ['pidstat', 'cpu-12h'], ['pidstat', 'since-boot']],
};

let t: TempStore;
let store: ExpertStore;
const loaded = new Map<string, { id: number; fixture: Fixture }>();

async function parsedRows(parser: string, variant: string): Promise<Record<string, unknown>[]> {
  const { id } = loaded.get(`${parser}/${variant}`)!;
  const result = await store.query(`SELECT * FROM parsed."${parser}" WHERE process_id = $1 ORDER BY seq`, [id]);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, typeof row[i] === 'bigint' ? Number(row[i]) : row[i]])));
}

function allLines(f: Fixture): string[] {
  return [...f.stdout, ...f.stderr];
}

before(async () => {
  t = await tempStore();
  store = t.store;
  const batchId = await store.createBatch({ name: 'fixtures', config: {}, provenance: {} });
  for (const [parser, list] of Object.entries(FIXTURES)) {
    for (const [tool, variant] of list) {
      const fixture = await readFixture(tool, variant);
      // Processes are recognised by their command, as in a batch (no `parser:` given), except
      // captures wrapped in a shell script (`sh -c 'yes & perf stat ...'`), which name their parser.
      const wrapped = fixture.command.startsWith('sh -c');
      const id = await loadFixture(store, fixture, { batchId, label: `${tool}/${variant}`, ...(wrapped ? { parser } : {}) });
      loaded.set(`${parser}/${variant}`, { id, fixture });
    }
  }
  for (const parser of Object.keys(FIXTURES)) {
    const report = await ensureParsed(store, parser);
    assert.equal(report.parsedProcesses, FIXTURES[parser]!.length, `${parser} claims its fixtures by program name`);
  }
});

after(async () => {
  await t?.cleanup();
});

describe('vmstat', () => {
  for (const [, variant] of FIXTURES.vmstat!) {
    test(`${variant}: every data row matches the printed figures; first row is since boot (not with -y)`, async () => {
      const { fixture } = loaded.get(`vmstat/${variant}`)!;
      const data = fixture.stdout.filter((l) => /^\s*\d/.test(l)).map(fields);
      const header = fields(fixture.stdout.find((l) => /^\s*r\s+b\s/.test(l))!);
      const rows = await parsedRows('vmstat', variant);
      assert.equal(rows.length, data.length);
      rows.forEach((row, i) => {
        for (const name of ['r', 'b', 'free', 'buff', 'cache', 'bi', 'bo', 'in', 'cs', 'us', 'sy', 'id', 'wa']) {
          assert.equal(row[name], Number(data[i]![header.indexOf(name)]), `${variant} row ${i} ${name}`);
        }
        assert.equal(row.since_boot, i === 0 && !/ -y /.test(` ${fixture.command} `), `${variant} row ${i} since_boot`);
        assert.equal(row.parse_error, false);
        if (header.includes('gu')) assert.equal(row.gu, Number(data[i]![header.indexOf('gu')]));
        if (fixture.command.includes('-t')) {
          const stamp = `${data[i]!.at(-2)}T${data[i]!.at(-1)}Z`;
          assert.equal((row.ts as Date).toISOString(), new Date(stamp).toISOString());
        } else assert.equal(row.ts, null);
      });
    });
  }
});

describe('perf-stat', () => {
  for (const [, variant] of FIXTURES['perf-stat']!) {
    test(`${variant}: values, events and <not supported>/<not counted> as printed`, async () => {
      const { fixture } = loaded.get(`perf-stat/${variant}`)!;
      const csv = fixture.stderr.filter((l) => l.split(',').length >= 7).map((l) => l.split(','));
      const rows = await parsedRows('perf-stat', variant);
      assert.equal(rows.length, csv.length);
      rows.forEach((row, i) => {
        const f = csv[i]!;
        const interval = fixture.command.includes('-I');
        const i0 = interval ? 1 : 0;
        const prefixes = f.length - i0 - 7; // 0, 1 (CPU0, comm-tid) or 2 (S0-D0-C0 and a CPU count)
        const prefixed = prefixes > 0;
        const k = i0 + prefixes;
        assert.equal(row.event, f[k + 2]);
        const printed = f[k]!;
        if (printed === '<not supported>') assert.equal(row.supported, false);
        else if (printed === '<not counted>') assert.equal(row.counted, false);
        else assert.equal(row.value, Number(printed));
        if (printed.startsWith('<')) assert.equal(row.value, null);
        assert.equal(row.interval_s, interval ? Number(f[0]) : null);
        assert.equal(row.prefix, prefixed ? f[i0]!.trim() : null);
        assert.equal(row.cpus, prefixes === 2 ? Number(f[i0 + 1]) : null);
        assert.equal(row.run_pct, Number(f[k + 4]));
        assert.equal(row.parse_error, false);
      });
    });
  }
});

describe('iozone', () => {
  const columns = ['file_kb', 'reclen_kb', 'write_kbps', 'rewrite_kbps', 'read_kbps', 'reread_kbps', 'random_read_kbps', 'random_write_kbps'];
  for (const variant of ['auto-read-write', 'auto-all', 'report']) {
    test(`${variant}: -a rows split on blanks give the same figures`, async () => {
      const { fixture } = loaded.get(`iozone/${variant}`)!;
      const data = fixture.stdout.filter((l) => /^\s+\d+\s+\d+\s+\d+/.test(l)).map(fields);
      const rows = (await parsedRows('iozone', variant)).filter((r) => r.source === 'auto');
      assert.equal(rows.length, data.length);
      rows.forEach((row, i) => {
        // Columns present up to the last one printed are read in order (no gaps in these runs).
        data[i]!.forEach((value, j) => {
          if (j < columns.length) assert.equal(row[columns[j]!], Number(value), `${variant} row ${i} ${columns[j]}`);
        });
        if (data[i]!.length === 6) assert.equal(row.random_read_kbps, null);
        assert.equal(row.parse_error, false);
      });
    });
  }
  test('auto-gaps: blank columns stay NULL, later columns land by position', async () => {
    const { fixture } = loaded.get('iozone/auto-gaps')!;
    // -i 0 -i 2: write, rewrite, then random read/write after a blank gap where read/reread would be.
    const data = fixture.stdout.filter((l) => /^\s+\d+\s+\d+\s+\d+/.test(l)).map(fields);
    const rows = (await parsedRows('iozone', 'auto-gaps')).filter((r) => r.source === 'auto');
    assert.equal(rows.length, data.length);
    rows.forEach((row, i) => {
      const [file, reclen, write, rewrite, randomRead, randomWrite] = data[i]!.map(Number);
      assert.deepEqual(
        [row.file_kb, row.reclen_kb, row.write_kbps, row.rewrite_kbps, row.read_kbps, row.reread_kbps, row.random_read_kbps, row.random_write_kbps],
        [file, reclen, write, rewrite, null, null, randomRead, randomWrite],
      );
    });
  });
  test('report: -R blocks fold back into rows equal to the -a table', async () => {
    const { fixture } = loaded.get('iozone/report')!;
    // Independent reading of the "Writer report" block.
    const start = fixture.stdout.indexOf('"Writer report"');
    const reclens = fixture.stdout[start + 1]!.trim().split(/\s+/).map((s) => Number(s.replace(/"/g, '')));
    const expected: [number, number, number][] = [];
    for (let i = start + 2; fixture.stdout[i]?.startsWith('"'); i++) {
      const [file, ...values] = fixture.stdout[i]!.trim().split(/\s+/);
      values.forEach((v, j) => expected.push([Number(file!.replace(/"/g, '')), reclens[j]!, Number(v)]));
    }
    const rows = (await parsedRows('iozone', 'report')).filter((r) => r.source === 'report');
    assert.equal(rows.length, expected.length);
    for (const [file, reclen, write] of expected) {
      const row = rows.find((r) => r.file_kb === file && r.reclen_kb === reclen);
      assert.ok(row, `report row ${file}/${reclen}`);
      assert.equal(row.write_kbps, write);
      assert.ok(typeof row.reread_kbps === 'number');
    }
  });
  test('throughput: -t "Children see" lines and their per-process figures', async () => {
    const { fixture } = loaded.get('iozone/throughput')!;
    const lines = fixture.stdout;
    const rows = (await parsedRows('iozone', 'throughput')).filter((r) => r.source === 'throughput');
    const children = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes('Children see throughput'));
    assert.equal(rows.length, children.length);
    assert.ok(rows.length >= 2);
    children.forEach(([line, i], k) => {
      const m = /for\s+(\d+)\s+(.+?)\s*=\s*([\d.]+)/.exec(line)!;
      assert.equal(rows[k]!.processes, Number(m[1]));
      assert.equal(rows[k]!.test, m[2]);
      assert.equal(rows[k]!.throughput_kbps, Number(m[3]));
      assert.equal(rows[k]!.parent_kbps, Number(/=\s*([\d.]+)/.exec(lines[i + 1]!)![1]));
      assert.equal(rows[k]!.avg_kbps, Number(/=\s*([\d.]+)/.exec(lines[i + 4]!)![1]));
    });
    assert.equal(rows[0]!.write_kbps, rows[0]!.throughput_kbps, 'initial writers fill write_kbps');
  });
});

describe('fio', () => {
  for (const variant of ['json', 'json-two-jobs']) {
    test(`${variant}: jobs and directions as in the JSON document`, async () => {
      const { fixture } = loaded.get(`fio/${variant}`)!;
      const doc = JSON.parse(fixture.stdout.slice(fixture.stdout.indexOf('{')).join('\n')) as { jobs: Record<string, any>[] };
      const expected = doc.jobs.flatMap((job) => (['read', 'write', 'trim'] as const)
        .filter((d) => job[d].total_ios > 0)
        .map((d) => ({ jobname: job.jobname, ddir: d, bw: job[d].bw, bwBytes: job[d].bw_bytes, iops: job[d].iops, runtime: job[d].runtime, clat: job[d].clat_ns.mean / 1000 })));
      const rows = await parsedRows('fio', variant);
      assert.equal(rows.length, expected.length);
      for (const e of expected) {
        const row = rows.find((r) => r.jobname === e.jobname && r.ddir === e.ddir)!;
        assert.ok(row, `${e.jobname}/${e.ddir}`);
        // bw is whole KiB/s; bw_bytes is the same rate to the byte.
        assert.equal(row.bw_kibps, e.bwBytes / 1024);
        assert.equal(row.bw_printed_kibps, e.bw);
        assert.equal(Math.trunc(row.bw_kibps as number), e.bw);
        assert.equal(row.iops, e.iops);
        assert.equal(row.runtime_ms, e.runtime);
        assert.ok(Math.abs((row.clat_mean_us as number) - e.clat) < 1e-9);
        assert.equal(row.format, 'json');
      }
    });
  }
  for (const variant of ['terse', 'terse-two-jobs']) {
    test(`${variant}: terse v3 fields`, async () => {
      const { fixture } = loaded.get(`fio/${variant}`)!;
      const lines = fixture.stdout.filter((l) => l.startsWith('3;')).map((l) => l.split(';'));
      const rows = await parsedRows('fio', variant);
      const expected = lines.flatMap((f) => [
        ...(Number(f[5]) > 0 ? [{ job: f[2], ddir: 'read', bw: Number(f[6]), iops: Number(f[7]), clat: Number(f[15]) }] : []),
        ...(Number(f[46]) > 0 ? [{ job: f[2], ddir: 'write', bw: Number(f[47]), iops: Number(f[48]), clat: Number(f[56]) }] : []),
      ]);
      assert.equal(rows.length, expected.length);
      for (const e of expected) {
        const row = rows.find((r) => r.jobname === e.job && r.ddir === e.ddir)!;
        assert.deepEqual([row.bw_kibps, row.iops, row.clat_mean_us], [e.bw, e.iops, e.clat]);
      }
    });
  }
  for (const variant of ['normal', 'normal-write']) {
    test(`${variant}: IOPS/BW lines with their units; IOPS and BW from the issued I/Os, io and runtime`, async () => {
      const { fixture } = loaded.get(`fio/${variant}`)!;
      const scale: Record<string, number> = { KiB: 1, MiB: 1024, GiB: 1024 * 1024 };
      const issued = /issued rwts: total=(\d+),(\d+),(\d+)/.exec(fixture.stdout.find((l) => l.includes('issued rwts'))!)!.slice(1).map(Number);
      const expected = fixture.stdout.filter((l) => /^\s+(read|write): IOPS=/.test(l)).map((l) => {
        const m = /(read|write): IOPS=([\d.]+)(k?), BW=([\d.]+)(KiB|MiB|GiB)\/s \([^)]*\)\((\d+)(KiB|MiB)\/(\d+)msec\)/.exec(l)!;
        const runtimeS = Number(m[8]) / 1000;
        return {
          ddir: m[1],
          iopsPrinted: Number(m[2]) * (m[3] === 'k' ? 1000 : 1),
          bwPrinted: Number(m[4]) * scale[m[5]!]!,
          iops: issued[m[1] === 'read' ? 0 : 1]! / runtimeS,
          bw: (Number(m[6]) * scale[m[7]!]!) / runtimeS,
          runtime: Number(m[8]),
        };
      });
      const rows = await parsedRows('fio', variant);
      assert.equal(rows.length, expected.length);
      const near = (got: unknown, want: number, what: string) =>
        assert.ok(Math.abs((got as number) - want) <= 1e-9 * want, `${variant} ${what}: ${String(got)} is not ${want}`);
      rows.forEach((row, i) => {
        const e = expected[i]!;
        assert.equal(row.ddir, e.ddir);
        near(row.iops, e.iops, 'iops = issued / runtime');
        near(row.bw_kibps, e.bw, 'bw = io / runtime');
        near(row.iops_printed, e.iopsPrinted, 'iops as printed');
        near(row.bw_printed_kibps, e.bwPrinted, 'bw as printed');
        assert.equal(row.runtime_ms, e.runtime);
        assert.ok((row.clat_mean_us as number) > 0, 'clat read');
        assert.equal(row.jobname, /^(\S+): \(groupid/.exec(fixture.stdout.find((l) => l.includes('(groupid='))!)![1]);
      });
    });
  }
});

describe('dd', () => {
  for (const [, variant] of FIXTURES.dd!) {
    test(`${variant}: bytes, seconds, the rate from them and the printed rate`, async () => {
      const { fixture } = loaded.get(`dd/${variant}`)!;
      const line = fixture.stderr.find((l) => l.includes('copied'))!;
      const m = /^(\d+) bytes.*copied, ([\d.e+-]+) s, ([\d.]+) (\w*B)\/s/.exec(line)!;
      const unit: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
      const [row] = await parsedRows('dd', variant);
      assert.equal(row!.bytes, Number(m[1]));
      assert.equal(row!.seconds, Number(m[2]));
      // dd prints its rate to 2-3 digits; the rate is bytes / seconds, both printed in full.
      assert.equal(row!.rate_bps, Number(m[1]) / Number(m[2]));
      assert.ok(Math.abs((row!.rate_printed_bps as number) - Number(m[3]) * unit[m[4]!]!) < 1e-3, `${variant}: printed rate`);
      assert.notEqual(row!.rate_bps, row!.rate_printed_bps, 'the printed rate is rounded');
      assert.equal(row!.records_in, /^(\S+) records in/.exec(fixture.stderr[0]!)![1]);
    });
  }
});

/** Independent reading of a sysstat report: header line → names, rows zipped with it. */
function sysstatExpect(lines: string[]): { time: string | null; report: number; values: Record<string, string> }[] {
  const out: { time: string | null; report: number; values: Record<string, string> }[] = [];
  let header: string[] | null = null;
  // A report (one interval) starts where the first header line comes again.
  let firstHeader: string | null = null;
  let report = 0;
  for (const line of lines) {
    if (line.trim() === '' || line.startsWith('Linux ') || /^\d+\/\d+\/\d+ \d/.test(line)) continue;
    const m = /^(\d\d:\d\d:\d\d(?: [AP]M)?|Average:)\s+(.*)$/.exec(line);
    const rest = m ? m[2]! : line;
    const tokens = rest.trim().split(/\s+/);
    if (tokens.every((x) => Number.isNaN(Number(x)))) {
      if (m?.[1] !== 'Average:') {
        firstHeader ??= tokens.join(' ');
        if (tokens.join(' ') === firstHeader) report++;
      }
      header = tokens.map((x) => x.toLowerCase().replace(/%/g, 'pct_').replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, ''));
      if (header[0] === 'avg_cpu') header = header.slice(1);
      continue;
    }
    // The last column (pidstat's Command) may hold blanks: it takes the rest of the line.
    const cells = tokens.length > header!.length ? [...tokens.slice(0, header!.length - 1), tokens.slice(header!.length - 1).join(' ')] : tokens;
    out.push({ time: m ? m[1]! : null, report, values: Object.fromEntries(header!.map((h, i) => [h, cells[i]!])) });
  }
  return out;
}

/**
 * What the sysstat tools print since boot (seen on the real tools, sysstat 12): iostat's first report
 * unless -y; mpstat and pidstat with no interval; sar with interval 0. With an interval mpstat,
 * pidstat and sar sample first and print after it.
 */
function sinceBootExpected(parser: string, command: string, report: number): boolean {
  const args = command.split(/\s+/).slice(1);
  const numbers = args.filter((a) => /^\d+$/.test(a));
  if (parser === 'iostat') return report === 1 && !args.includes('-y');
  if (parser === 'mpstat' || parser === 'pidstat') return numbers.length === 0;
  return numbers[0] === '0';
}

for (const parser of ['sar', 'iostat', 'mpstat', 'pidstat'] as const) {
  describe(parser, () => {
    for (const [, variant] of FIXTURES[parser]!) {
      test(`${variant}: each row zipped with its header gives the printed figures`, async () => {
        const { fixture } = loaded.get(`${parser}/${variant}`)!;
        const expected = sysstatExpect(fixture.stdout);
        const rows = await parsedRows(parser, variant);
        assert.equal(rows.length, expected.length);
        rows.forEach((row, i) => {
          const e = expected[i]!;
          for (const [name, value] of Object.entries(e.values)) {
            if (!(name in row)) continue;
            const got = row[name];
            if (typeof got === 'number') assert.equal(got, Number(value), `${variant} row ${i} ${name}`);
            else if (got !== null) assert.equal(got, value, `${variant} row ${i} ${name}`);
            else assert.equal(value, '-', `${variant} row ${i} ${name} is NULL only for '-'`);
          }
          assert.equal(row.parse_error, false);
          assert.equal(row.average, e.time === 'Average:');
          assert.equal(row.report, e.report, `${variant} row ${i} report`);
          assert.equal(row.since_boot, sinceBootExpected(parser, fixture.command, e.report), `${variant} row ${i} since_boot`);
          if (e.time && e.time !== 'Average:') {
            // 12-hour and 24-hour times land on the same clock time.
            const [hms, ampm] = e.time.split(' ');
            let [h, mi, s] = hms!.split(':').map(Number) as [number, number, number];
            if (ampm === 'PM' && h < 12) h += 12;
            if (ampm === 'AM' && h === 12) h = 0;
            const ts = row.ts as Date;
            assert.deepEqual([ts.getUTCHours(), ts.getUTCMinutes(), ts.getUTCSeconds()], [h, mi, s]);
          }
        });
        if (variant.includes('12h')) assert.ok(rows.some((r) => r.ts !== null), '12-hour times parse');
      });
    }
  });
}

describe('sadf', () => {
  for (const [, variant] of FIXTURES.sadf!.filter(([, v]) => v.startsWith('json'))) {
    test(`${variant}: -j documents give one row per activity item`, async () => {
      const { fixture } = loaded.get(`sadf/${variant}`)!;
      const doc = JSON.parse(fixture.stdout.join('\n')) as { sysstat: { hosts: { statistics: Record<string, any>[] }[] } };
      const expected = doc.sysstat.hosts[0]!.statistics.flatMap((s) => Object.entries(s).filter(([k]) => k !== 'timestamp')
        .flatMap(([act, v]) => (Array.isArray(v) ? v : [v]).map((item) => ({ act, time: s.timestamp.time as string, item: item as Record<string, unknown> }))));
      const rows = await parsedRows('sadf', variant);
      assert.equal(rows.length, expected.length);
      const key = (act: string, k: string) => act.startsWith('cpu-load') && k !== 'cpu' ? `pct_${k}`
        : act === 'process-and-context-switch' ? `${k}_s` : ({ 'disk-device': 'dev', rkB: 'rkb_s', wkB: 'wkb_s', dkB: 'dkb_s', 'util-percent': 'pct_util' } as Record<string, string>)[k] ?? k;
      for (const e of expected) {
        const row = rows.find((r) => r.time === e.time && r.kind === e.act)!;
        assert.ok(row, `${e.act} at ${e.time}`);
        for (const [k, v] of Object.entries(e.item)) {
          const name = key(e.act, k);
          if (name in row) assert.equal(typeof row[name] === 'number' ? row[name] : String(row[name]), typeof row[name] === 'number' ? Number(v) : String(v), `${e.act} ${name}`);
        }
      }
    });
  }
  for (const [, variant] of FIXTURES.sadf!.filter(([, v]) => v.startsWith('db'))) {
    test(`${variant}: ;-separated rows under their # header`, async () => {
      const { fixture } = loaded.get(`sadf/${variant}`)!;
      const header = fixture.stdout[0]!.replace(/^#\s*/, '').split(';').map((x) => x.toLowerCase().replace(/%/g, 'pct_').replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, ''));
      const data = fixture.stdout.slice(1).filter((l) => !l.startsWith('#') && l.trim() !== '').map((l) => l.split(';'));
      const rows = await parsedRows('sadf', variant);
      assert.equal(rows.length, data.length);
      rows.forEach((row, i) => {
        header.forEach((name, j) => {
          if (!(name in row)) return;
          const got = row[name];
          if (typeof got === 'number') assert.equal(got, Number(data[i]![j]));
          else assert.equal(got, data[i]![j]);
        });
        assert.equal((row.ts as Date).toISOString().slice(0, 19).replace('T', ' '), data[i]![2]!.slice(0, 19));
      });
    });
  }
});
