//! The shims: install.sh's links, activate.sh's environment, and the MSBuild pair, whose XML
//! is read here (MSBuild does not run on this machine): well-formed, the properties it sets,
//! and the compile options it produces, which are then given to a real compile.

use crate::support;
use crate::support::command_ok;
use crate::support::e2e;

use e2e::{repo, scratch, HotCompiler};
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn install_sh_links_the_compiler_and_linker_names_to_hotpatch_cl() {
    let dir = scratch("install-sh").join("shims");
    let bin = support::our_bin("hotpatch-cl");
    command_ok(
        Command::new(repo().join("shims/install.sh"))
            .arg(&dir)
            .arg(&bin),
    );
    for name in ["clang-cl", "clang", "clang++", "lld-link"] {
        let link = dir.join(name);
        let target = std::fs::read_link(&link).unwrap_or_else(|e| panic!("{link:?}: {e}"));
        assert!(
            target.is_absolute(),
            "{link:?} -> {target:?} must be absolute"
        );
        assert_eq!(
            std::fs::canonicalize(&link).expect("resolves"),
            std::fs::canonicalize(&bin).expect("bin")
        );
    }
    // Running it again is harmless (links are replaced, not duplicated).
    command_ok(
        Command::new(repo().join("shims/install.sh"))
            .arg(&dir)
            .arg(&bin),
    );
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 4);
}

#[test]
fn install_sh_refuses_a_missing_wrapper() {
    let dir = scratch("install-sh-missing");
    let out = Command::new(repo().join("shims/install.sh"))
        .arg(dir.join("shims"))
        .arg(dir.join("no-such-hotpatch-cl"))
        .output()
        .expect("install.sh runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-such-hotpatch-cl is not an executable"),
        "{err}"
    );
    assert!(!dir.join("shims/clang-cl").exists());
}

#[test]
fn activate_sh_sets_path_compiler_and_alias_and_deactivates() {
    let dir = scratch("activate-sh");
    let shims = dir.join("shims");
    command_ok(
        Command::new(repo().join("shims/install.sh"))
            .arg(&shims)
            .arg(support::our_bin("hotpatch-cl")),
    );
    let script = format!(
        "set -e; shopt -s expand_aliases; before=$PATH; source '{}' clang-cl-19; \
         echo \"first=${{PATH%%:*}}\"; echo \"compiler=$HOTPATCH_COMPILER\"; \
         echo \"clang-cl=$(command -v clang-cl)\"; echo \"alias=$(alias hpcl)\"; \
         hotpatch_deactivate; [ \"$PATH\" = \"$before\" ] && echo restored=yes; \
         echo \"after=${{HOTPATCH_COMPILER-unset}}\"",
        repo().join("shims/activate.sh").display()
    );
    let out = command_ok(
        Command::new(support::tool("bash"))
            .arg("-c")
            .arg(&script)
            .env("HOTPATCH_SHIM_DIR", &shims)
            .env_remove("HOTPATCH_COMPILER"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let vars: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    assert_eq!(
        vars.get("first").copied(),
        Some(shims.to_str().expect("utf-8")),
        "{text}"
    );
    assert_eq!(vars.get("compiler").copied(), Some("clang-cl-19"), "{text}");
    assert_eq!(
        vars.get("clang-cl").copied(),
        Some(shims.join("clang-cl").to_str().expect("utf-8")),
        "{text}"
    );
    assert!(vars["alias"].contains("hotpatch-cl clang-cl-19"), "{text}");
    assert_eq!(vars.get("restored").copied(), Some("yes"), "{text}");
    assert_eq!(vars.get("after").copied(), Some("unset"), "{text}");
}

/// Reads an MSBuild file: well-formed XML whose root is `<Project>`.
fn msbuild_doc(name: &str) -> String {
    let path = repo().join("shims/msbuild").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "Project", "{path:?}");
    text
}

/// The texts of the elements `tag` whose parent is an element `parent`.
fn element_text<'a>(doc: &'a roxmltree::Document, parent: &str, tag: &str) -> Vec<&'a str> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .filter(|n| n.parent_element().is_some_and(|p| p.has_tag_name(parent)))
        .map(|n| n.text().unwrap_or(""))
        .collect()
}

#[test]
fn msbuild_props_declare_the_settings() {
    let text = msbuild_doc("Directory.Build.props");
    let doc = roxmltree::Document::parse(&text).expect("xml");
    for prop in [
        "HotPatchFunctionsFile",
        "HotPatchClDir",
        "HotPatchFunctionPadMin",
    ] {
        let n = doc
            .descendants()
            .find(|n| n.has_tag_name(prop))
            .unwrap_or_else(|| panic!("props does not set {prop}"));
        // Defaults only: a value given by the project or /p: wins.
        assert_eq!(
            n.attribute("Condition"),
            Some(format!("'$({prop})' == ''").as_str()),
            "{prop}"
        );
    }
}

#[test]
fn msbuild_targets_route_clangcl_through_the_shim_and_add_the_flags() {
    let text = msbuild_doc("Directory.Build.targets");
    let doc = roxmltree::Document::parse(&text).expect("xml");

    // The compiler swap applies only to the ClangCL toolset with a list given.
    let group = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("PropertyGroup") && n.children().any(|c| c.has_tag_name("CLToolExe"))
        })
        .expect("a PropertyGroup setting CLToolExe");
    let cond = group.attribute("Condition").expect("conditional");
    assert!(cond.contains("'$(PlatformToolset)' == 'ClangCL'"), "{cond}");
    assert!(cond.contains("$(HotPatchFunctionsFile)") && cond.contains("@(HotPatchFunction)"));
    assert_eq!(
        element_text(&doc, "PropertyGroup", "CLToolExe"),
        ["clang-cl.exe"]
    );
    assert_eq!(
        element_text(&doc, "PropertyGroup", "CLToolPath"),
        ["$(HotPatchClDir)"]
    );
    // The real compiler is captured from the toolset's values before they are replaced.
    let children: Vec<&str> = group
        .children()
        .filter(|c| c.is_element())
        .map(|c| c.tag_name().name())
        .collect();
    let pos = |t: &str| children.iter().position(|c| *c == t).expect(t);
    assert!(
        pos("HotPatchRealCompiler") < pos("CLToolPath"),
        "{children:?}"
    );

    // The target runs before ClCompile and exports HOTPATCH_COMPILER to the compiles.
    let target = doc
        .descendants()
        .find(|n| n.has_tag_name("Target") && n.attribute("Name") == Some("HotPatchClPrepare"))
        .expect("target HotPatchClPrepare");
    assert_eq!(target.attribute("BeforeTargets"), Some("ClCompile"));
    let setenv = target
        .descendants()
        .find(|n| n.has_tag_name("SetEnv"))
        .expect("SetEnv");
    assert_eq!(setenv.attribute("Name"), Some("HOTPATCH_COMPILER"));
    assert_eq!(setenv.attribute("Value"), Some("$(HotPatchRealCompiler)"));

    // The options, expanded as MSBuild would for a file and two listed functions, then used in
    // a real compile of the C example: they must give the hot-patched object.
    let props: BTreeMap<&str, String> = [
        (
            "_HotPatchFileOption",
            element_text(&doc, "PropertyGroup", "_HotPatchFileOption")[0].replace(
                "$([System.IO.Path]::GetFullPath('$(HotPatchFunctionsFile)'))",
                &repo()
                    .join("examples/c-counter/hotpatch.txt")
                    .display()
                    .to_string(),
            ),
        ),
        (
            "_HotPatchListOption",
            element_text(&doc, "PropertyGroup", "_HotPatchListOption")[0]
                .replace("@(HotPatchFunction, ',')", "errors_seen,handle_request"),
        ),
    ]
    .into_iter()
    .collect();
    let options = element_text(&doc, "ClCompile", "AdditionalOptions");
    assert_eq!(options.len(), 1, "{options:?}");
    let mut line = options[0].replace("%(ClCompile.AdditionalOptions)", "");
    for (k, v) in &props {
        line = line.replace(&format!("$({k})"), v);
    }
    assert!(!line.contains("$("), "unexpanded: {line}");
    let args: Vec<String> = line
        .split_whitespace()
        .map(|a| a.replace('"', ""))
        .collect();
    assert!(args.iter().any(|a| a == "/hotpatch"), "{args:?}");
    assert_eq!(
        element_text(&doc, "Link", "AdditionalOptions"),
        ["%(Link.AdditionalOptions) /FUNCTIONPADMIN"]
    );

    let dir = scratch("msbuild-options");
    let obj = dir.join("counter.obj");
    command_ok(
        HotCompiler::msvc()
            .command()
            .args(["/nologo", "/c", "/Z7", "/O2", "/GS-", "/Zl"])
            .args(&args)
            .arg(format!("/Fo{}", obj.display()))
            .arg("--")
            .arg(repo().join("examples/c-counter/counter.c")),
    );
    let info = e2e::hot_info(&[obj]);
    assert_eq!(
        info.records.iter().collect::<Vec<_>>(),
        ["errors_seen", "handle_request"],
        "the file and the item list both count"
    );
    assert!(info.refs.contains("__ref_s_errors"), "{info:?}");
}
