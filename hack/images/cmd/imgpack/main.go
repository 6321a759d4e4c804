// Command imgpack packs a directory tree into a single-layer linux/amd64 image and writes it as a
// docker archive that `ctr images import` accepts, so the local node needs no registry.
//
//	imgpack -root DIR -tag NAME:TAG -o OUT.tar [-entrypoint JSON] [-cmd JSON] [-user U:G]
//	        [-workdir DIR] [-env K=V]... [-port N/tcp]...
//
// Every file in the layer is owned by root (uid 0, gid 0) and keeps its mode, so an image whose
// process runs as another user cannot change its own files. Timestamps are zeroed, so the same
// tree always gives the same layer digest.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	root := flag.String("root", "", "directory whose tree becomes the image's filesystem")
	tag := flag.String("tag", "", "image reference, e.g. meshid-operator:latest")
	out := flag.String("o", "", "output docker archive")
	entrypoint := flag.String("entrypoint", "", "entrypoint as a JSON array")
	cmd := flag.String("cmd", "", "cmd as a JSON array")
	user := flag.String("user", "", "user[:group] the process runs as")
	workdir := flag.String("workdir", "", "working directory")
	var env, ports list
	flag.Var(&env, "env", "environment variable K=V (repeatable)")
	flag.Var(&ports, "port", "exposed port, e.g. 9443/tcp (repeatable)")
	flag.Parse()
	if *root == "" || *tag == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := pack(*root, *tag, *out, *entrypoint, *cmd, *user, *workdir, env, ports); err != nil {
		fmt.Fprintf(os.Stderr, "imgpack: %v\n", err)
		os.Exit(1)
	}
}

func pack(root, tag, out, entrypoint, cmd, user, workdir string, env, ports []string) error {
	ref, err := name.NewTag(tag, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	layerTar, err := tarTree(root)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.User = user
	cf.Config.WorkingDir = workdir
	cf.Config.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, env...)
	if entrypoint != "" {
		if err := json.Unmarshal([]byte(entrypoint), &cf.Config.Entrypoint); err != nil {
			return fmt.Errorf("entrypoint: %w", err)
		}
	}
	if cmd != "" {
		if err := json.Unmarshal([]byte(cmd), &cf.Config.Cmd); err != nil {
			return fmt.Errorf("cmd: %w", err)
		}
	}
	if len(ports) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range ports {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, ref, img)
}

// tarTree returns a tar of every file under root, in sorted order, owned by root.
func tarTree(root string) ([]byte, error) {
	var paths []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		info, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		link := ""
		if info.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return nil, err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(root, p)
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
