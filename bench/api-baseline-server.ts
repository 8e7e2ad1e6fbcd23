// The baseline for bench/api: a bare Fastify server running the same SQL as the manager's list and
// create-app routes, without authentication, schemas, audit or problem handling on top.
// Usage (from bench/api.ts): node bench/api-baseline-server.ts <postgres-url>; prints its port.
import Fastify from 'fastify';
import { openPostgres } from '../src/db/postgres.ts';

const db = await openPostgres(process.argv[2]!);
const app = Fastify();
const select = `SELECT id, name, NULL AS "parentId", spec, status, version, created_at AS "createdAt", updated_at AS "updatedAt" FROM apps`;

app.get<{ Params: { project: string } }>('/apps/:project', async (req) => {
  const { rows } = await db.query(
    `${select} WHERE project_id = (SELECT id FROM projects WHERE name = $1) ORDER BY name LIMIT 51`,
    [req.params.project],
  );
  return { items: rows.slice(0, 50) };
});

app.post<{ Params: { project: string }; Body: { name: string; spec: unknown } }>(
  '/apps/:project',
  async (req, reply) => {
    const row = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        'INSERT INTO apps (name, spec, project_id) VALUES ($1, $2, (SELECT id FROM projects WHERE name = $3)) RETURNING id',
        [req.body.name, req.body.spec, req.params.project],
      );
      await tx.query(
        "INSERT INTO audit_log (actor, action, resource_type, resource_name, outcome) VALUES ('bench', 'create', 'app', $1, 'success')",
        [req.body.name],
      );
      await tx.query("INSERT INTO outbox (kind, name, operation, payload) VALUES ('App', $1, 'apply', $2)", [
        req.body.name,
        req.body.spec,
      ]);
      return (await tx.query(`${select} WHERE id = $1`, [rows[0]!.id])).rows[0];
    });
    return reply.code(201).send(row);
  },
);

await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
