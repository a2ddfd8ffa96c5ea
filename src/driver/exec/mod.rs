//! Running programs: the hot-patch pipeline (`pipeline`), link mode and the PDB fix-up
//! (`link`), what caches see (`cachekey`), launchers such as ccache (`launcher`), finding the
//! compiler (`toolchain`), the settings of one invocation (`env`), and the one place that
//! starts processes (`process`).

pub mod cachekey;
pub mod env;
pub mod launcher;
pub mod link;
pub mod pipeline;
pub mod process;
pub mod toolchain;
