/* A tiny service module whose request handler we want to be able to hot-patch.
 * Freestanding on purpose (no C library): it builds with clang-cl on any machine. */

int requests_served;                 /* mutable global: reached through __ref_requests_served */
static int s_errors;                 /* file-local static: reached through __ref_s_errors */
const int limits[4] = {10, 20, 40, 80}; /* const, no pointers: stays a direct access */
const char *const level_names[] = {"low", "mid", "high", "max"}; /* const with pointers: redirected */

int handle_request(int level)
{
    if (level < 0 || level > 3) {
        s_errors++;
        return -1;
    }
    requests_served++;
    return limits[level] + level_names[level][0];
}

int errors_seen(void) { return s_errors; } /* not listed: untouched */
