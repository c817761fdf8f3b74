import { InvalidArgumentError } from 'commander'

/**
 * The parser of an option that takes a whole number (`--seed`, `--workers`, `--queue-timeout`):
 * plain decimal digits only, up to `max` where given (a time in seconds that Node's timers hold). Number() would read '' and ' ' as 0 (an unset `$SLURM_ARRAY_TASK_ID`
 * ran every array job on seed 0), '0x10' as 16 and '1e3' as 1000; each is refused, naming the option.
 */
export const integerOption =
  (name: string, min: number, max?: { value: number; why: string }) =>
  (value: string): number => {
    if (value.trim() === '') throw new InvalidArgumentError(`${name} is empty (an unset shell variable?); give a whole number ≥ ${min}`)
    const n = Number(value)
    if (!/^[0-9]+$/.test(value) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min} in decimal digits, got '${value}'`)
    // Past 2^53 a number in digits is no longer that number (and a seed that large is not a seed).
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be at most ${Number.MAX_SAFE_INTEGER}, got '${value}'`)
    if (max !== undefined && n > max.value) throw new InvalidArgumentError(`${name} must be at most ${max.value} (${max.why}), got '${value}'`)
    return n
  }
