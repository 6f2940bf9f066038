/**
 * The name a job will create, shown before it runs, or why the name is not valid; a name the
 * screen's own job has just made is said to be that, not an error.
 */
import type { OutputPlan } from '../../src-main/common/contract';
import { appStepsText } from '../next-steps';

export function OutputName({ plan, justMade = false }: { plan: OutputPlan | null; justMade?: boolean }) {
  if (!plan) return null;
  // An error about one field is shown under that field.
  if (plan.error && plan.field) return null;
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
      {plan.exists &&
        (justMade ? (
          <div className="field-done">Made by the job below. For another, choose another version or tag.</div>
        ) : (
          <div className="field-error">It already exists: choose another version or tag.</div>
        ))}
    </div>
  );
}
