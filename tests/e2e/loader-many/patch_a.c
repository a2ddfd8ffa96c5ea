/* One of the two patch files: hot-patched, so `counter` and `total` are reached through
 * `__ref_counter` and `__ref_total`, which patch_b.c's object carries too. The image keeps one
 * copy of each (a COMDAT), so redirecting the exported one redirects both files' functions. */
extern int counter;
extern int total;

__declspec(dllexport) int bump_a(void)
{
    total += 1;
    return ++counter;
}
