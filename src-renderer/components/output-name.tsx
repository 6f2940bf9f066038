/** The name a job will create, shown before it runs, or why the name is not valid. */
import type { OutputPlan } from '../../src-main/ipc/contract';
import { appStepsText } from '../next-steps';

export function OutputName({ plan }: { plan: OutputPlan | null }) {
  if (!plan) return null;
  if (plan.error) {
    return (
      <p className="field-error" role="alert">
        {plan.error.message}
        {plan.error.hint ? ` — ${plan.error.hint}` : ''}
        {plan.error.next?.length ? ` — ${appStepsText(plan.error.next)}` : ''}
      </p>
    );
  }
  return (
    <div className={`output-name${plan.exists ? ' exists' : ''}`}>
      <span className="label">Output</span>
      <span className="mono" data-testid="output-name">
        {plan.name}
      </span>
      <span className="muted"> in {plan.path.slice(0, plan.path.length - plan.name.length - 1)}</span>
      {plan.exists && <div className="field-error">It already exists: choose another version or tag.</div>}
    </div>
  );
}
