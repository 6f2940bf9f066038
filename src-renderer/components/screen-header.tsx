/** The title of a screen, with its phase and one line that says what it does. */
export function ScreenHeader({
  title,
  subtitle,
  phase,
}: {
  title: string;
  subtitle?: string;
  phase?: string;
}) {
  return (
    <header className="screen-header">
      {phase && <div className="screen-phase">{phase}</div>}
      <h1>{title}</h1>
      {subtitle && <p className="subtitle">{subtitle}</p>}
    </header>
  );
}
