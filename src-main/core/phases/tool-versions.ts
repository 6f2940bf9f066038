/** The versions of the builder's Linux tools, as tool_versions.sh reports them, for a manifest. */
import type { JobContext } from '../jobs/job.js';
import type { Env } from './env.js';

export async function toolVersions(env: Env, ctx: JobContext): Promise<Record<string, string>> {
  const out = await env.builder.runScript('tool_versions.sh', [], ctx);
  const tools: Record<string, string> = {};
  for (const v of out.results.get('tool') ?? []) {
    const [name, version] = v.split(' ');
    if (name && version) tools[name] = version;
  }
  return tools;
}
