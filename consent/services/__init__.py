"""The consent app's writes, by operation: publishing.py (a form version made signable), obtaining.py
(a signed consent saved, a consent withdrawn), signatures.py (the drawn signature checked and made
canonical before it is saved). Reads, and the consent gate every needle point asks, are in
consent/selectors.py; the refusals in consent/errors.py."""
