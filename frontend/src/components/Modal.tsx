import { useLayoutEffect, useRef, type ReactNode, type RefObject } from 'react';

interface Props {
  testId: string;
  labelledBy: string;
  onClose(): void;
  /** For the dialog's content to find its fields (focus the first invalid one). */
  dialogRef?: RefObject<HTMLDialogElement | null>;
  children: ReactNode;
}

/**
 * A native modal `<dialog>`, open from its first paint (so its content can measure itself),
 * closed by Escape, a click on the backdrop, or the content's own buttons.
 */
export function Modal({ testId, labelledBy, onClose, dialogRef, children }: Props) {
  const own = useRef<HTMLDialogElement>(null);
  const ref = dialogRef ?? own;
  useLayoutEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, [ref]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      data-testid={testId}
      aria-labelledby={labelledBy}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      {children}
    </dialog>
  );
}
