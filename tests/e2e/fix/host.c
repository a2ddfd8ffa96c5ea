/* The running program of the `hotpatch changed` end-to-end test (tests/it/e2e_wine.rs), linked
 * with the shipped v1/app.c. It shows the bugs, then plays the hot-patch loader: loads
 * patch.dll (v2/app.c built through hotpatch-cl with the list `hotpatch changed` derived),
 * checks that the patch's `__ref_` pointers are read-only, points them at its own `counter`
 * and `total`, and calls the patched functions, which must now compute on this image's state.
 * Freestanding (/GS- /Zl, entry point `start`): kernel32 only, declared here by hand.
 * The exit code says which step failed (0: all passed). */

#include "../loader/loader.h"

/* From v1/app.c, the shipped code. */
extern int counter, total;
int add_item(int v);
int average(void);
int clamp(int v);

static void out(const char *s)
{
    DWORD n = 0, written;
    while (s[n])
        n++;
    WriteFile(GetStdHandle((DWORD)-11), s, n, &written, 0);
}

static void out_int(int v)
{
    char buf[16];
    int i = 15;
    int neg = v < 0;
    unsigned u = neg ? 0u - (unsigned)v : (unsigned)v;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        buf[--i] = '-';
    out(buf + i);
}

static void report(const char *what, int avg, int arg, int cl)
{
    out(what);
    out(": average=");
    out_int(avg);
    out(" clamp(");
    out_int(arg);
    out(")=");
    out_int(cl);
    out("\n");
}

/* A `__ref_` pointer must live in a read-only page before the loader re-points it. */
static int checked_redirect(int **ref, int *to)
{
    return writable(ref) == 0 && redirect(ref, to);
}

static int run(void)
{
    add_item(10);
    add_item(20);
    report("shipped", average(), -5, clamp(-5));
    if (average() != 10 || clamp(-5) != -5)
        return 10; /* the bugs, as shipped */

    void *dll = LoadLibraryA("patch.dll");
    if (!dll)
        return 11;
    int (*p_average)(void) = (int (*)(void))GetProcAddress(dll, "average");
    int (*p_clamp)(int) = (int (*)(int))GetProcAddress(dll, "clamp");
    int **ref_counter = (int **)GetProcAddress(dll, "__ref_counter");
    int **ref_total = (int **)GetProcAddress(dll, "__ref_total");
    if (!p_average || !p_clamp || !ref_counter || !ref_total)
        return 12;
    if (!checked_redirect(ref_counter, &counter) || !checked_redirect(ref_total, &total))
        return 13;

    report("patched", p_average(), -5, p_clamp(-5));
    if (p_average() != 15 || p_clamp(-5) != 0 || p_clamp(150) != 100)
        return 14; /* the fix, on this image's state */
    add_item(30); /* shipped code keeps running alongside */
    report("after add_item(30)", p_average(), 170, p_clamp(170));
    if (p_average() != 20 || counter != 3)
        return 15;
    return 0;
}

void start(void)
{
    ExitProcess(run());
}
