/* A minimal stand-alone Lua host for the end-to-end tests: runs the script named on the
 * command line and exits 0 on success, 1 with the error message otherwise.
 * Lua's own lua.c is not shipped by the lua-src crate, hence this small host. */
#include <stdio.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int main(int argc, char **argv)
{
    lua_State *L;
    int status;
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRIPT.lua\n", argv[0]);
        return 2;
    }
    L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "cannot create a Lua state\n");
        return 1;
    }
    luaL_openlibs(L);
    status = luaL_dofile(L, argv[1]);
    if (status != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    lua_close(L);
    fflush(stdout);
    return 0;
}
