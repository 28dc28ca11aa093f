/** A window (or any one-of-a-few) choice as a group of toggle buttons. */

export interface WindowChoice<T extends string | number> {
  value: T;
  label: string;
}

/** Toggle buttons rather than a <select>: Enter and Space both work on a button (a <select> opens on Space only). */
export function WindowSelect<T extends string | number>({
  label,
  caption,
  testId,
  choiceTestId,
  choices,
  value,
  onChange,
}: {
  /** The group's accessible name. */
  label: string;
  /** Shown before the buttons, when given. */
  caption?: string;
  testId?: string;
  /** Each button's data-testid: this prefix and the choice's value. */
  choiceTestId: string;
  choices: readonly WindowChoice<T>[];
  value: T;
  onChange(value: T): void;
}) {
  return (
    <div className="window-select" role="group" aria-label={label} data-testid={testId}>
      {caption && <span className="muted">{caption}</span>}
      {choices.map((choice) => (
        <button
          key={choice.value}
          type="button"
          className="toggle"
          aria-pressed={choice.value === value}
          data-testid={`${choiceTestId}${choice.value}`}
          onClick={() => onChange(choice.value)}
        >
          {choice.label}
        </button>
      ))}
    </div>
  );
}
