// The `dyve` command under Deno, from the TypeScript sources (deno.json): `deno task dyve ...`.
import { main } from '../harness/cli.ts';

Deno.exitCode = await main(Deno.args);
