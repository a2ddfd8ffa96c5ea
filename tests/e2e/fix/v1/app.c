/* The program's logic as shipped (tests/it/e2e_wine.rs, `hotpatch changed` end to end): two bugs.
 * v2/app.c is the fix; host.c is the running program and plays the hot-patch loader. */
int counter; /* items added so far: the running image's state */
int total;   /* their sum */

__declspec(noinline) int add_item(int v)
{
    counter++;
    total += v;
    return counter;
}

/* Bug: divides by one item too many. */
__declspec(noinline) int average(void) { return total / (counter + 1); }

/* Bug: lets negative values through. */
__declspec(noinline) int clamp(int v) { return v > 100 ? 100 : v; }

__declspec(noinline) int doubled(int v) { return clamp(v) * 2; }
