// node-postgres against imei_registry: imei as text and in binary (an int8
// on the wire, by binary COPY), check_imei, report_connection, an application submitted and
// decided, and a CSV streamed into upload_connections with pg-copy-streams.
// Connects with the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE)
// that scripts/test sets; run with `node --test` after `npm ci`.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const pg = require('pg');
const { from: copyFrom, to: copyTo } = require('pg-copy-streams');

const OPERATOR = 'kcell';
let client;
let imeiOid;

// The n-th IMEI of a TAC: 14-digit body and its Luhn check digit (TS 23.003).
function imei(tac, n) {
  const body = tac + String(n).padStart(6, '0');
  let sum = 0;
  for (let i = 0; i < 14; i++) {
    let d = Number(body[13 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

// Everything the scenarios need that a login would be given: the extension,
// the schema on the search path (for the type's operators), an operator,
// this year's MCI, a TAC.  The tests run as the cluster's superuser; a
// deployment grants imei_registry_operator / _portal / _admin instead.
async function fixtures(c) {
  await c.query('CREATE EXTENSION IF NOT EXISTS imei_registry');
  // the data tables, once per database (imei_registry.create_registry())
  await c.query(`SELECT imei_registry.create_registry()
                  WHERE pg_catalog.to_regclass('imei_registry.registry') IS NULL`);
  await c.query('SET search_path = "$user", public, imei_registry');
  await c.query(`INSERT INTO imei_registry.operators VALUES ($1, 'Kcell')
                 ON CONFLICT DO NOTHING`, [OPERATOR]);
  await c.query(`INSERT INTO imei_registry.mci (year, tenge)
                 VALUES (extract(year FROM now() AT TIME ZONE 'Asia/Almaty')::int, 4325)
                 ON CONFLICT (year) DO NOTHING`);
  await c.query(`INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots)
                 VALUES ('86200101', 'Acme', 'Duo', 'smartphone', 2)
                 ON CONFLICT (tac) DO NOTHING`);
}

before(async () => {
  client = new pg.Client();
  await client.connect();
  await fixtures(client);
  const r = await client.query(`SELECT 'imei_registry.imei'::regtype::oid AS oid`);
  imeiOid = Number(r.rows[0].oid);
});

after(async () => {
  await client.end();
});

test('imei in text format: the 15 digits as a string, leading zero kept', async () => {
  const r = await client.query(
    `SELECT '35-209900-176148-1'::imei_registry.imei AS a, $1::imei_registry.imei AS b`,
    ['001013001234568']);
  assert.deepEqual(r.rows[0], { a: '352099001761481', b: '001013001234568' });
  assert.equal(r.fields[0].dataTypeID, imeiOid);
});

// COPY's binary format: signature, flags, header extension, then per row a
// field count and each field as its length and bytes; -1 ends the data.
const PGCOPY = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

function binaryRows(buf) {
  assert.deepEqual(buf.subarray(0, 11), PGCOPY);
  let off = 15 + 4 + buf.readInt32BE(15);
  const rows = [];
  for (let n = buf.readInt16BE(off); n !== -1; n = buf.readInt16BE(off)) {
    off += 2;
    const row = [];
    for (let i = 0; i < n; i++) {
      const len = buf.readInt32BE(off);
      off += 4;
      row.push(len === -1 ? null : buf.subarray(off, off + len));
      off += Math.max(len, 0);
    }
    rows.push(row);
  }
  return rows;
}

function binaryFile(values) {
  const parts = [PGCOPY, Buffer.alloc(8)];          // flags 0, no header extension
  for (const v of values) {
    const row = Buffer.alloc(2 + 4 + 8);
    row.writeInt16BE(1, 0);
    row.writeInt32BE(8, 2);
    row.writeBigInt64BE(v, 6);
    parts.push(row);
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

async function copyOut(sql) {
  const chunks = [];
  for await (const chunk of client.query(copyTo(sql))) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function copyIn(sql, data) {
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from([data]), stream);
  return stream.rowCount;
}

// node-postgres's `binary: true` decodes every result field as UTF-8 before
// the type parser sees it, which mangles bytes >= 0x80 (node-postgres issue
// 3495, open): the bytes of an imei come through COPY's binary format.
test('imei in binary format: an int8 on the wire (binary COPY out)', async () => {
  const buf = await copyOut(`COPY (SELECT v::imei_registry.imei FROM (VALUES
      ('001013001234568'), ('35-209900-176148-1')) AS t(v)) TO STDOUT (FORMAT binary)`);
  const rows = binaryRows(buf);
  assert.equal(rows.length, 2);
  for (const [field] of rows) assert.equal(field.length, 8);
  const values = rows.map(([field]) => field.readBigInt64BE(0));
  assert.deepEqual(values, [1013001234568n, 352099001761481n]);
  assert.equal(values[0].toString().padStart(15, '0'), '001013001234568');
});

test('binary COPY in: int8 values, re-validated by the type', async () => {
  await client.query('CREATE TEMP TABLE binary_devices (imei imei_registry.imei)');
  try {
    const sql = 'COPY binary_devices FROM STDIN (FORMAT binary)';
    assert.equal(await copyIn(sql, binaryFile([1013001234568n, 352099001761481n])), 2);
    const r = await client.query('SELECT imei FROM binary_devices ORDER BY imei');
    assert.deepEqual(r.rows.map((x) => x.imei), ['001013001234568', '352099001761481']);

    await assert.rejects(copyIn(sql, binaryFile([352099001761482n])),
      { code: '22P02',
        message: 'invalid check digit for type imei: "352099001761482", should be 1' });
    await assert.rejects(copyIn(sql, binaryFile([1000000000000000n])),
      { code: '22003', message: 'value 1000000000000000 is out of range for type imei' });
  } finally {
    await client.query('DROP TABLE binary_devices');
  }
});

test('a typo is refused with SQLSTATE 22P02 naming the input and the check digit', async () => {
  await assert.rejects(
    client.query('SELECT $1::imei_registry.imei', ['352099001761482']),
    (err) => {
      assert.equal(err.code, '22P02');
      assert.equal(err.message,
        'invalid check digit for type imei: "352099001761482", should be 1');
      return true;
    });
  await assert.rejects(client.query('SELECT $1::bigint::imei_registry.imei', ['1000000000000000']),
    { code: '22003' });
});

test('check_imei as a prepared statement, report_connection turns an unknown IMEI grey', async () => {
  const dev = imei('86200199', 1);
  const check = (v) => client.query({
    name: 'check_imei',
    text: 'SELECT status, reason, grey_last_day::text, days_left FROM imei_registry.check_imei($1)',
    values: [v],
  });
  let r = await check(dev);
  assert.deepEqual(r.rows[0],
    { status: null, reason: 'not_registered', grey_last_day: null, days_left: null });

  const report = (v, at, operator = OPERATOR) => client.query(
    'SELECT imei_registry.report_connection($1::imei_registry.imei, $2, $3) AS status',
    [v, operator, at]);
  // dates relative to now: a grey period of 30 days from the Almaty
  // (UTC+5) date of the connection
  const day = 86400e3;
  const almatyDate = (ms) => new Date(ms + 5 * 3600e3).toISOString().slice(0, 10);
  const twoDaysAgo = Date.now() - 2 * day;
  const lastDay = almatyDate(twoDaysAgo + 30 * day);
  r = await report(dev, new Date(twoDaysAgo).toISOString());
  assert.equal(r.rows[0].status, 'grey');
  r = await check(dev);
  assert.equal(r.rows[0].status, 'grey');
  assert.equal(r.rows[0].reason, 'unverified');
  assert.equal(r.rows[0].grey_last_day, lastDay);

  // known, a later connection: no change
  r = await report(dev, new Date(Date.now() - day).toISOString());
  assert.equal(r.rows[0].status, 'grey');
  assert.equal((await check(dev)).rows[0].grey_last_day, lastDay);

  await assert.rejects(report(imei('86200199', 2), '2026-03-01', 'tele2'),
    { code: '22023', message: 'unknown operator "tele2"' });
});

test('an application submitted as JSON and decided: its IMEIs turn white', async () => {
  const devs = [imei('86200101', 1), imei('86200101', 2)];
  for (const d of devs) {
    await client.query('SELECT imei_registry.report_connection($1::imei_registry.imei, $2)',
      [d, OPERATOR]);
  }
  const application = {
    applicant: { kind: 'individual', id: '901123300258' },
    method: 'accompanied_baggage',
    import_date: '2025-06-01',
    exporting_country: 'AE',
    documents: [{
      type: 'border_crossing_certificate', number: 'BC-1',
      holder_id: '901123300258', issued_on: '2025-06-01',
    }],
    devices: [{ model: 'Duo', imeis: devs }],
  };
  // jsonb goes as JSON text; IMEIs in it are strings.  Unsigned: scripts/test
  // turns imei_registry.require_signature off for this database.
  const sub = await client.query('SELECT imei_registry.submit_application($1) AS id',
    [JSON.stringify(application)]);
  const id = sub.rows[0].id;
  assert.match(id, /^\d+$/, 'a bigint arrives as a string');

  const dec = await client.query('SELECT imei_registry.decide_application($1) AS result', [id]);
  assert.deepEqual(dec.rows[0].result,
    { decision: 'approved', reasons: [], fee: { mci: 0, tenge: 0 } });
  for (const d of devs) {
    const r = await client.query('SELECT status, reason FROM imei_registry.check_imei($1)', [d]);
    assert.deepEqual(r.rows[0], { status: 'white', reason: 'application_approved' });
  }

  await assert.rejects(client.query('SELECT imei_registry.decide_application($1)', [id]),
    { code: '55000', message: `application ${id} is already approved` });

  // an IMEI as a JSON number is refused: it would lose its leading zeros
  const asNumber = { ...application, devices: [{ model: 'Duo', imeis: [Number(devs[0])] }] };
  await assert.rejects(
    client.query('SELECT imei_registry.submit_application($1)', [JSON.stringify(asNumber)]),
    { code: '22023',
      message: 'invalid application: key "devices[0].imeis[0]" must be a string (an IMEI as typed, 15 digits)' });
});

test('a forbidden status change fails with SQLSTATE IR001', async () => {
  const dev = imei('86200199', 3);
  await client.query('SELECT imei_registry.report_connection($1::imei_registry.imei, $2)',
    [dev, OPERATOR]);
  await assert.rejects(
    client.query(`UPDATE imei_registry.registry SET status = 'white', reason = 'reinstated', note = 'no'
                  WHERE imei = $1::imei_registry.imei`, [dev]),
    { code: 'IR001',
      message: `IMEI ${dev} cannot change from grey to white by reason "reinstated"` });
});

test('COPY a CSV into upload_connections with pg-copy-streams: counts and rejects', async () => {
  const good = Array.from({ length: 50 }, (_, i) => imei('86200150', i + 1));
  const lines = ['operator,imei,connected_at'];
  for (const d of good) lines.push(`${OPERATOR},${d},2026-03-01 09:00+05`);
  lines.push(`${OPERATOR},${good[0]},2026-03-01 00:00+00`);       // line 52: earlier, moves it
  lines.push(`tele2,${imei('86200150', 99)},2026-03-01`);           // 53: unknown operator
  lines.push(`${OPERATOR},86200150,2026-03-01`);                   // 54: wrong length
  lines.push(`${OPERATOR},${good[1].slice(0, 14)}9,2026-03-01`);   // 55: bad check digit
  const csv = lines.join('\n') + '\n';

  const notices = [];
  const onNotice = (n) => notices.push(n.message);
  client.on('notice', onNotice);
  try {
    const stream = client.query(copyFrom(
      'COPY imei_registry.upload_connections FROM STDIN (FORMAT csv, HEADER true)'));
    await pipeline(Readable.from([csv.slice(0, 1000), csv.slice(1000)]), stream);   // in pieces
    assert.equal(stream.rowCount, 0, 'the target never holds a row');
  } finally {
    client.off('notice', onNotice);
  }

  const imp = await client.query(`
    SELECT import_id, target, rows_read::int, rows_loaded::int, rows_rejected::int,
           rows_already_present::int
    FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1`);
  const { import_id: importId, ...counts } = imp.rows[0];
  assert.deepEqual(counts, {
    target: 'upload_connections', rows_read: 54, rows_loaded: 51, rows_rejected: 3,
    rows_already_present: 0,
  });
  assert.deepEqual(notices, [`import ${importId} into imei_registry.upload_connections: `
    + '54 rows read, 51 loaded (0 already present), 3 rejected']);

  const rej = await client.query(`
    SELECT line_number::int, reason FROM imei_registry.import_rejects
    WHERE import_id = $1 ORDER BY line_number`, [importId]);
  assert.deepEqual(rej.rows.map((r) => [r.line_number, r.reason]), [
    [53, 'unknown_operator'], [54, 'wrong_length'], [55, 'bad_check_digit'],
  ]);
  const grey = await client.query(`
    SELECT count(*)::int AS n FROM imei_registry.registry
    WHERE imei_registry.imei_tac(imei) = '86200150' AND status = 'grey' AND import_id = $1`,
  [importId]);
  assert.equal(grey.rows[0].n, 50);
});
