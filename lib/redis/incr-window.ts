// A fixed-window counter in one atomic step: INCR, and EXPIRE when the INCR
// started the window. A separate EXPIRE after the INCR (as haraka-plugin-limit
// does) leaves a key that never expires when the second call fails.
// KEYS[1] the counter, ARGV[1] the window in seconds; returns the new count.
export const INCR_WITH_WINDOW = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`
