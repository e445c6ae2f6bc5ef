FROM scratch
COPY local-path-provisioner /usr/bin/local-path-provisioner
ENTRYPOINT ["/usr/bin/local-path-provisioner"]
