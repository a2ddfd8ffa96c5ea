/* The other patch file, sharing `counter` and `total` with patch_a.c. */
extern int counter;
extern int total;

__declspec(dllexport) int bump_b(void)
{
    total += 10;
    return counter += 100;
}
