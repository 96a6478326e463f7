{
  description = "db-tool: a private, throw-away PostgreSQL cluster per project, and the commands around it";

  # A stable release branch. flake.lock is made by `nix flake lock` on a machine with
  # network (see README, Nix).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system:
        f (import nixpkgs { inherit system; overlays = [ self.overlays.default ]; }));
    in
    {
      overlays.default = import ./nix/overlay.nix;

      packages = forAllSystems (pkgs: {
        inherit (pkgs.hectic) db-tool postgres-init postgres-cleanup migrator;
        default = pkgs.hectic.db-tool;
      });

      # The hectic SQL bundle for consumers that apply it themselves (e.g. NixOS modules).
      lib.hectic = import ./nix/lib.nix { inherit (nixpkgs) lib; };

      devShells = forAllSystems (pkgs: {
        default = import ./nix/dev-shell.nix { inherit pkgs; };
      });

      # `nix flake check`: every package builds, and the offline check of the Nix files
      # (nix/check/run.sh, which CI runs without Nix builds) passes inside a build.
      checks = forAllSystems (pkgs: {
        inherit (pkgs.hectic) db-tool postgres-init postgres-cleanup migrator;
      } // nixpkgs.lib.optionalAttrs pkgs.stdenv.hostPlatform.isLinux {
        nix-offline = import ./nix/check/flake-check.nix {
          inherit pkgs;
          nixpkgsLib = "${nixpkgs}/lib";
        };
      });
    };
}
