/* The program's logic with the fix (tests/it/e2e_wine.rs): `average` and `clamp` change, nothing
 * else does, though every line below this comment moved. */
int counter; /* items added so far: the running image's state */
int total;   /* their sum */

__declspec(noinline) int add_item(int v)
{
    counter++;
    total += v;
    return counter;
}

/* Fixed: the mean of the items added, 0 for none. */
__declspec(noinline) int average(void) { return counter ? total / counter : 0; }

/* Fixed: clamps to [0, 100]. */
__declspec(noinline) int clamp(int v) { return v < 0 ? 0 : v > 100 ? 100 : v; }

__declspec(noinline) int doubled(int v) { return clamp(v) * 2; }
